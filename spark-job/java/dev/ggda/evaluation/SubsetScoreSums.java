package dev.ggda.evaluation;

import dev.ggda.data.Columns;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The attribution's prediction for many training subsets at once, on the executors: predicted[j][t]
 * = sum over groups g of weight[j][g] * score(t, g), read from the long-format scores table
 * (target_id, group_id, score). Weights are 1 for a group a subset keeps whole and |S ∩ G| / |G|
 * when it keeps part of it (a group's score shared evenly among its members). Only subsets x groups
 * weights travel (broadcast) and subsets x targets sums come back.
 */
public final class SubsetScoreSums {
  private SubsetScoreSums() {}

  /**
   * @param targetIds target ids in ascending order (the aggregate target is -1)
   * @param groupIds group ids in ascending order
   * @param weightsByGroup weights, group-major: weightsByGroup[g * subsets + j]
   * @return predicted[j][t]
   */
  public static double[][] predict(
      SparkSession spark,
      Dataset<Row> scores,
      long[] targetIds,
      long[] groupIds,
      float[] weightsByGroup,
      int subsets) {
    int t = targetIds.length;
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<long[]> bt = jsc.broadcast(targetIds);
    Broadcast<long[]> bg = jsc.broadcast(groupIds);
    Broadcast<float[]> bw = jsc.broadcast(weightsByGroup);
    try {
      double[] sums =
          scores
              .select(Columns.TARGET_ID, Columns.GROUP_ID, Columns.SCORE)
              .javaRDD()
              .mapPartitions(
                  (Iterator<Row> rows) -> {
                    long[] tid = bt.value();
                    long[] gid = bg.value();
                    float[] w = bw.value();
                    double[] acc = new double[t * subsets]; // target-major
                    while (rows.hasNext()) {
                      Row r = rows.next();
                      int ti = Arrays.binarySearch(tid, r.getLong(0));
                      int gi = Arrays.binarySearch(gid, r.getLong(1));
                      if (ti < 0 || gi < 0) {
                        throw new IllegalStateException(
                            "scores name target "
                                + r.getLong(0)
                                + " / group "
                                + r.getLong(1)
                                + " that the evaluation does not know");
                      }
                      double s = r.getDouble(2);
                      int a = ti * subsets;
                      int b = gi * subsets;
                      for (int j = 0; j < subsets; j++) {
                        acc[a + j] += w[b + j] * s;
                      }
                    }
                    return List.of(acc).iterator();
                  })
              .treeReduce(
                  (x, y) -> {
                    for (int i = 0; i < x.length; i++) {
                      x[i] += y[i];
                    }
                    return x;
                  });
      double[][] out = new double[subsets][t];
      for (int ti = 0; ti < t; ti++) {
        for (int j = 0; j < subsets; j++) {
          out[j][ti] = sums[ti * subsets + j];
        }
      }
      return out;
    } finally {
      bt.destroy();
      bg.destroy();
      bw.destroy();
    }
  }
}
