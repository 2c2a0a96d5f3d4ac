package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.featurize.BlockFeatures;
import dev.ggda.featurize.FeaturizeStage;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Features of the attribution targets, on the driver: per slot a (T x k) matrix of projected loss
 * gradients (and margin gradients for TRAK). Targets are featurized on the executors exactly like
 * groups of one example (the batched per-example path); only T x k floats per slot come back.
 */
public final class TargetFeatures {
  final long[] ids;
  final float[][] loss;
  final float[][] margin;
  final int k;

  /**
   * Targets per featurize block: big blocks amortise BLAS's packing of P (see AttributionStage).
   */
  static final int TARGETS_PER_BLOCK = 512;

  private TargetFeatures(long[] ids, float[][] loss, float[][] margin, int k) {
    this.ids = ids;
    this.loss = loss;
    this.margin = margin;
    this.k = k;
  }

  public int targets() {
    return ids.length;
  }

  static TargetFeatures compute(
      Dataset<Row> targets,
      Architecture arch,
      FeaturizeStage.Slots slots,
      Featurizer.Spec spec,
      int partitions,
      dev.ggda.config.ComputeDevice device) {
    Featurizer.Spec perExample =
        new Featurizer.Spec(
            spec.projection(),
            spec.dim(),
            spec.seed(),
            spec.marginSums(),
            Featurizer.Moment.NONE,
            0,
            0,
            spec.passRows());
    // Each target is its own group, numbered by its rank among the target ids, so that blocks of
    // TARGETS_PER_BLOCK targets are the same whatever the partitioning.
    org.apache.spark.api.java.JavaRDD<Row> ranked =
        targets
            .select(Columns.EXAMPLE_ID)
            .javaRDD()
            .sortBy(r -> r.getLong(0), true, partitions)
            .zipWithIndex()
            .map(t -> org.apache.spark.sql.RowFactory.create(t._1().getLong(0), t._2()))
            .cache();
    Dataset<Row> asGroups =
        targets
            .sparkSession()
            .createDataFrame(
                ranked,
                new org.apache.spark.sql.types.StructType()
                    .add(Columns.EXAMPLE_ID, org.apache.spark.sql.types.DataTypes.LongType, false)
                    .add(Columns.GROUP_ID, org.apache.spark.sql.types.DataTypes.LongType, false));
    FeaturizeStage.Featurized r =
        FeaturizeStage.run(
            targets, asGroups, arch, slots, perExample, TARGETS_PER_BLOCK, partitions, device);
    List<BlockFeatures> blocks = r.blocks.collect();
    r.blocks.unpersist(false);
    int t = blocks.stream().mapToInt(BlockFeatures::groups).sum();
    int s = slots.size();
    int k = Featurizer.featureDim(arch, spec);
    long[] ids =
        ranked.map(row -> row.getLong(0)).collect().stream().mapToLong(Long::longValue).toArray();
    float[][] loss = new float[s][t * k];
    float[][] margin = spec.marginSums() ? new float[s][t * k] : null;
    // Group ids are ranks among the sorted target ids: place each target's row at its rank.
    for (BlockFeatures b : blocks) {
      for (int j = 0; j < b.groups(); j++) {
        int rank = (int) b.groupIds[j];
        for (int si = 0; si < s; si++) {
          System.arraycopy(b.loss[si], j * k, loss[si], rank * k, k);
          if (margin != null) {
            System.arraycopy(b.margin[si], j * k, margin[si], rank * k, k);
          }
        }
      }
    }
    ranked.unpersist(false);
    return new TargetFeatures(ids, loss, margin, k);
  }

  /** The aggregate target: one row, the sum over all targets (target id -1). */
  TargetFeatures aggregate() {
    float[][] l = sumRows(loss);
    float[][] m = margin == null ? null : sumRows(margin);
    return new TargetFeatures(new long[] {-1L}, l, m, k);
  }

  private float[][] sumRows(float[][] perSlot) {
    float[][] out = new float[perSlot.length][k];
    for (int s = 0; s < perSlot.length; s++) {
      double[] acc = new double[k];
      for (int t = 0; t < ids.length; t++) {
        for (int j = 0; j < k; j++) {
          acc[j] += perSlot[s][t * k + j];
        }
      }
      for (int j = 0; j < k; j++) {
        out[s][j] = (float) acc[j];
      }
    }
    return out;
  }
}
