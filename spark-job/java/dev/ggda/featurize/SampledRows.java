package dev.ggda.featurize;

import static org.apache.spark.sql.functions.col;

import dev.ggda.data.Columns;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Flat;
import dev.ggda.math.Seeds;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import scala.Tuple2;

/**
 * TRAK's sampled kernel in a feature store: the kernel sums phi_i phi_i^T over the examples whose
 * seeded draw u_i falls below a fraction that shrinks as the table grows (a fixed number of
 * examples), so a file's share of it cannot be stored as one sum. Instead each file keeps the
 * projected margin gradients phi_i of its examples with u_i below twice the fraction in effect when
 * it was featurized; a later run sums those with u_i below its own fraction. A table that shrank to
 * less than half needs more than a file kept, and the sample is then featurized again.
 */
final class SampledRows {
  /** Files keep their sample at this multiple of the fraction in effect. */
  static final double HEADROOM = 2.0;

  private static final String DIR = "sampled-rows";
  private static final String PHI = "phi";

  private SampledRows() {}

  /** The kernel over the stored rows and the rows it sums, per slot. */
  record Sum(double[][] kernel, long[] rows) {}

  /**
   * Featurizes a file's examples below the headroom fraction, each as its own group (the margin row
   * of a one-example group is phi_i), and writes (example_id, phi of every slot) under {@code dir}.
   */
  static void save(
      SparkSession spark,
      Dataset<Row> fileIds,
      Dataset<Row> fileExamples,
      IncrementalFeaturize.Inputs in,
      String dir) {
    Featurizer.Spec spec = in.spec();
    long seed = spec.sampleSeed();
    double keep = Math.min(1.0, HEADROOM * spec.sampleFraction());
    Dataset<Row> ids =
        fileIds.filter((FilterFunction<Row>) r -> Seeds.unit(Seeds.mix(seed, r.getLong(0))) < keep);
    Dataset<Row> own = ownGroups(spark, ids);
    Featurizer.Spec perExample =
        new Featurizer.Spec(
            spec.projection(),
            spec.dim(),
            spec.seed(),
            true,
            Featurizer.Moment.NONE,
            0.0,
            seed,
            spec.passRows());
    FeaturizeStage.Featurized f =
        FeaturizeStage.run(
            fileExamples,
            own,
            in.arch(),
            in.slots(),
            perExample,
            in.groupsPerBlock(),
            in.partitions(),
            in.device());
    int slots = in.slots().size();
    int k = in.k();
    JavaRDD<Row> rows =
        f.blocks.flatMap(
            b -> {
              List<Row> out = new ArrayList<>();
              for (int j = 0; j < b.groups(); j++) {
                float[] phi = new float[slots * k];
                for (int s = 0; s < slots; s++) {
                  System.arraycopy(b.margin[s], j * k, phi, s * k, k);
                }
                out.add(RowFactory.create(b.groupIds[j], phi));
              }
              return out.iterator();
            });
    StructType schema =
        new StructType()
            .add(Columns.GROUP_ID, DataTypes.LongType, false)
            .add(PHI, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    spark
        .createDataFrame(rows, schema)
        .join(own, Columns.GROUP_ID)
        .select(Columns.EXAMPLE_ID, PHI)
        .write()
        .mode("overwrite")
        .parquet(dir + "/" + DIR);
    f.blocks.unpersist(false);
    FeatureStore.writeJson(
        new Path(dir, DIR + ".json"),
        "{\"fraction\":" + keep + "}",
        spark.sparkContext().hadoopConfiguration());
  }

  /** (example_id, group_id): each example its own group, ids dense in example-id order. */
  private static Dataset<Row> ownGroups(SparkSession spark, Dataset<Row> ids) {
    JavaRDD<Row> ranked =
        ids.select(Columns.EXAMPLE_ID)
            .sort(Columns.EXAMPLE_ID)
            .javaRDD()
            .zipWithIndex()
            .map(t -> RowFactory.create(t._1().getLong(0), t._2()));
    StructType schema =
        new StructType()
            .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
            .add(Columns.GROUP_ID, DataTypes.LongType, false);
    return spark.createDataFrame(ranked, schema);
  }

  /**
   * The sampled kernel of today's fraction from the files' stored rows, or null when some file kept
   * fewer than today's fraction needs.
   */
  static Sum kernel(SparkSession spark, List<String> partDirs, IncrementalFeaturize.Inputs in) {
    Featurizer.Spec spec = in.spec();
    double fraction = spec.sampleFraction();
    var conf = spark.sparkContext().hadoopConfiguration();
    Dataset<Row> all = null;
    for (String dir : partDirs) {
      Path meta = new Path(dir, DIR + ".json");
      try {
        if (!meta.getFileSystem(conf).exists(meta)
            || FeatureStore.read(meta, conf).get("fraction").asDouble() < fraction) {
          return null;
        }
      } catch (java.io.IOException e) {
        return null;
      }
      Dataset<Row> rows = spark.read().parquet(dir + "/" + DIR);
      all = all == null ? rows : all.union(rows);
    }
    long seed = spec.sampleSeed();
    int slots = in.slots().size();
    int k = in.k();
    JavaRDD<float[]> phis =
        all.filter((FilterFunction<Row>) r -> Seeds.unit(Seeds.mix(seed, r.getLong(0))) < fraction)
            .select(col(PHI))
            .javaRDD()
            .map(SampledRows::floats);
    Tuple2<double[][], Long> sum =
        phis.mapPartitions(it -> List.of(partial(it, slots, k)).iterator())
            .treeReduce(SampledRows::add);
    long[] rows = new long[slots];
    java.util.Arrays.fill(rows, sum._2());
    return new Sum(sum._1(), rows);
  }

  /** sum phi phi^T over a partition's rows, per slot, in float64. */
  private static Tuple2<double[][], Long> partial(Iterator<float[]> it, int slots, int k) {
    List<float[]> rows = new ArrayList<>();
    it.forEachRemaining(rows::add);
    double[][] out = new double[slots][];
    for (int s = 0; s < slots; s++) {
      if (rows.isEmpty()) {
        out[s] = new double[k * k];
        continue;
      }
      double[] stacked = new double[rows.size() * k];
      for (int i = 0; i < rows.size(); i++) {
        for (int c = 0; c < k; c++) {
          stacked[i * k + c] = rows.get(i)[s * k + c];
        }
      }
      INDArray a = Flat.matrix(stacked, rows.size(), k);
      out[s] = Flat.doubles(a.transpose().mmul(a).castTo(DataType.DOUBLE));
    }
    return new Tuple2<>(out, (long) rows.size());
  }

  private static Tuple2<double[][], Long> add(
      Tuple2<double[][], Long> a, Tuple2<double[][], Long> b) {
    for (int s = 0; s < a._1().length; s++) {
      for (int i = 0; i < a._1()[s].length; i++) {
        a._1()[s][i] += b._1()[s][i];
      }
    }
    return new Tuple2<>(a._1(), a._2() + b._2());
  }

  private static float[] floats(Row r) {
    List<Float> v = r.getList(0);
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = v.get(i);
    }
    return out;
  }
}
