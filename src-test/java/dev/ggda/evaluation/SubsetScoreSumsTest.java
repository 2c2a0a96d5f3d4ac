package dev.ggda.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Subset predictions summed on the executors equal the dense brute-force sums, partial groups
 * included.
 */
class SubsetScoreSumsTest {
  @Test
  void executorSumsEqualBruteForce() {
    SplittableRandom r = new SplittableRandom(5);
    int targets = 7;
    int groups = 30;
    int subsets = 6;
    long[] targetIds = new long[targets];
    long[] groupIds = new long[groups];
    for (int t = 0; t < targets; t++) {
      targetIds[t] = 100 + 3L * t;
    }
    for (int g = 0; g < groups; g++) {
      groupIds[g] = 7L * g - 20;
    }
    double[][] score = new double[targets][groups];
    List<Row> rows = new ArrayList<>();
    for (int g = groups - 1; g >= 0; g--) { // any row order
      for (int t = 0; t < targets; t++) {
        score[t][g] = r.nextGaussian();
        rows.add(RowFactory.create(targetIds[t], groupIds[g], score[t][g]));
      }
    }
    float[] weights = new float[groups * subsets];
    for (int g = 0; g < groups; g++) {
      for (int j = 0; j < subsets; j++) {
        weights[g * subsets + j] = r.nextInt(4) / 3f; // 0, 1/3, 2/3, 1
      }
    }
    SparkSession spark = SparkTestSession.get();
    StructType schema =
        new StructType()
            .add("target_id", DataTypes.LongType)
            .add("group_id", DataTypes.LongType)
            .add("score", DataTypes.DoubleType);
    double[][] got =
        SubsetScoreSums.predict(
            spark,
            spark.createDataFrame(rows, schema).repartition(3),
            targetIds,
            groupIds,
            weights,
            subsets);
    for (int j = 0; j < subsets; j++) {
      for (int t = 0; t < targets; t++) {
        double expected = 0;
        for (int g = 0; g < groups; g++) {
          expected += weights[g * subsets + j] * score[t][g];
        }
        assertEquals(expected, got[j][t], 1e-9);
      }
    }
  }
}
