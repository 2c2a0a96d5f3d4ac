package dev.ggda.grouping;

import dev.ggda.data.Columns;
import dev.ggda.math.Seeds;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The fine level of two-level k-means, on executors: the input partition holds rows (example_id,
 * coarse, vec) sorted by (coarse, example_id), so each coarse cluster is one contiguous run; each
 * run is clustered with {@link LocalKMeans#hierarchical} into its share of the groups and emitted
 * as (example_id, coarse, fine). One coarse cluster is in memory at a time. The result depends only
 * on the cluster's points in example_id order and the seed, not on the partitioning.
 */
final class LocalClusters implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  static final String COARSE = "coarse";
  static final String FINE = "fine";
  static final StructType SCHEMA =
      new StructType()
          .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
          .add(COARSE, DataTypes.IntegerType, false)
          .add(FINE, DataTypes.IntegerType, false);

  private final long[] groupsPerCoarse;
  private final long seed;

  /**
   * @param groupsPerCoarse number of fine clusters wanted in each coarse cluster
   * @param seed base seed; coarse cluster j uses {@code Seeds.mix(seed, j)}
   */
  LocalClusters(long[] groupsPerCoarse, long seed) {
    this.groupsPerCoarse = groupsPerCoarse.clone();
    this.seed = seed;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    return new Iterator<>() {
      // The next unread input row, unpacked (never hold a Row across next()).
      private boolean ahead;
      private long aheadId;
      private int aheadCoarse;
      private double[] aheadVec;
      private Row[] out = new Row[0];
      private int pos;

      {
        advance();
      }

      private void advance() {
        ahead = rows.hasNext();
        if (ahead) {
          Row r = rows.next();
          aheadId = r.getLong(0);
          aheadCoarse = r.getInt(1);
          aheadVec = ((Vector) r.get(2)).toArray();
        }
      }

      @Override
      public boolean hasNext() {
        while (pos == out.length) {
          if (!ahead) {
            return false;
          }
          out = nextCluster();
          pos = 0;
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return out[pos++];
      }

      private Row[] nextCluster() {
        int coarse = aheadCoarse;
        int d = aheadVec.length;
        long[] ids = new long[64];
        double[] x = new double[64 * d];
        int n = 0;
        while (ahead && aheadCoarse == coarse) {
          if (n == ids.length) {
            ids = Arrays.copyOf(ids, 2 * n);
            x = Arrays.copyOf(x, 2 * n * d);
          }
          ids[n] = aheadId;
          System.arraycopy(aheadVec, 0, x, n * d, d);
          n++;
          advance();
        }
        int k = (int) Math.max(1, Math.min(n, groupsPerCoarse[coarse]));
        int[] fine =
            LocalKMeans.hierarchical(
                x, n, d, k, Seeds.mix(seed, coarse), LocalKMeans.MAX_ITERATIONS);
        Row[] result = new Row[n];
        for (int i = 0; i < n; i++) {
          result[i] = RowFactory.create(ids[i], coarse, fine[i]);
        }
        return result;
      }
    };
  }
}
