package dev.ggda.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.GroupMethod;
import dev.ggda.config.LrSchedule;
import dev.ggda.config.ModelKind;
import dev.ggda.config.ProjectionKind;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.math.Architecture;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The programmatic API from a plain SparkSession with in-memory Datasets and no files: GradDot
 * scores of the user's own groups equal float64 inner products of group gradients computed here
 * from the returned model, the tables hang together, a given model is used as is, and close()
 * releases everything the run cached.
 */
class GroupAttributionTest {
  static final int DIM = 4;
  static final int CLASSES = 3;
  static final String[] SOURCES = {"crawl-a", "crawl-b", "vendor", "annotator-7", "forum"};
  static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType, false)
          .add("label", DataTypes.IntegerType, false)
          .add("features", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
          .add("source", DataTypes.StringType, false);

  record Rows(long[] ids, int[] labels, double[][] x, String[] source, Dataset<Row> df) {}

  static Rows rows(SparkSession spark, int n, long idBase, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] ids = new long[n];
    int[] labels = new int[n];
    double[][] x = new double[n][DIM];
    String[] source = new String[n];
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids[i] = idBase + 7L * i;
      labels[i] = r.nextInt(CLASSES);
      List<Double> f = new ArrayList<>();
      for (int d = 0; d < DIM; d++) {
        x[i][d] = r.nextGaussian() + (d == labels[i] ? 2.0 : 0.0);
        f.add((double) (float) x[i][d]);
        x[i][d] = (float) x[i][d];
      }
      source[i] = SOURCES[r.nextInt(SOURCES.length)];
      list.add(RowFactory.create(ids[i], labels[i], f.toArray(new Double[0]), source[i]));
    }
    return new Rows(ids, labels, x, source, spark.createDataFrame(list, SCHEMA).repartition(3));
  }

  static GroupAttribution.Builder graddot(SparkSession spark, Rows train, Rows targets) {
    return GroupAttribution.builder(spark)
        .method(AttributionMethod.GRADDOT)
        .projection(ProjectionKind.NONE, 1)
        .model(ModelKind.LOGISTIC)
        .training(new TrainConfig(4, 8, 0.2, LrSchedule.CONSTANT, 1, 1, 1.0, 5, TrainMode.LOCAL))
        .groupColumn("source")
        .train(train.df())
        .targets(targets.df());
  }

  /**
   * d loss / d theta of softmax regression at one row, float64, in the flat layout (W row-major,
   * then b).
   */
  static double[] lossGradient(float[] theta, double[] x, int y) {
    int p = DIM * CLASSES + CLASSES;
    double[] z = new double[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      z[c] = theta[DIM * CLASSES + c];
      for (int j = 0; j < DIM; j++) {
        z[c] += x[j] * theta[j * CLASSES + c];
      }
    }
    double max = Math.max(z[0], Math.max(z[1], z[2]));
    double sum = 0;
    for (int c = 0; c < CLASSES; c++) {
      sum += Math.exp(z[c] - max);
    }
    double[] g = new double[p];
    for (int c = 0; c < CLASSES; c++) {
      double d = Math.exp(z[c] - max) / sum - (c == y ? 1 : 0);
      for (int j = 0; j < DIM; j++) {
        g[j * CLASSES + c] = x[j] * d;
      }
      g[DIM * CLASSES + c] = d;
    }
    return g;
  }

  @Test
  void graddotScoresOfTheUsersGroupsEqualFloat64GroupGradientProducts() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Rows train = rows(spark, 80, 1000, 1);
    Rows targets = rows(spark, 6, 50_000, 2);
    int cachedBefore = spark.sparkContext().getPersistentRDDs().size();
    Map<String, Double> scores = new HashMap<>();
    Map<Long, String> sourceOfGroup = new HashMap<>();
    TrainedModel model;
    List<Row> values;
    Map<Long, Double> self = new HashMap<>();
    try (AttributionResult r = graddot(spark, train, targets).run()) {
      model = r.model();
      assertEquals(
          Architecture.logistic(DIM, CLASSES).paramCount(), model.architecture().paramCount());
      for (Row row : r.scores().collectAsList()) {
        scores.put(row.getLong(0) + "/" + row.getLong(1), row.getDouble(2));
      }
      Map<Long, Long> groupOf = new HashMap<>();
      for (Row row : r.groups().collectAsList()) {
        groupOf.put(row.getLong(0), row.getLong(1));
      }
      assertEquals(80, groupOf.size(), "every training row in exactly one group");
      for (int i = 0; i < 80; i++) {
        String before = sourceOfGroup.putIfAbsent(groupOf.get(train.ids()[i]), train.source()[i]);
        assertTrue(before == null || before.equals(train.source()[i]), "one group per source");
      }
      values = r.groupValues().orderBy("rank").collectAsList();
      for (Row row : r.selfInfluence().orElseThrow().collectAsList()) {
        self.put(row.getLong(0), row.getDouble(1));
      }
      assertTrue(r.runJson().contains("\"train_rows\" : 80"), r::runJson);
    }
    assertEquals(
        cachedBefore,
        spark.sparkContext().getPersistentRDDs().size(),
        "close() releases what the run cached");

    // Independent float64 reference from the returned model's parameters.
    float[] theta = model.finalCheckpoint(0).params();
    Map<String, double[]> groupGrad = new HashMap<>();
    for (int i = 0; i < 80; i++) {
      double[] g = lossGradient(theta, train.x()[i], train.labels()[i]);
      double[] sum = groupGrad.computeIfAbsent(train.source()[i], k -> new double[g.length]);
      for (int j = 0; j < g.length; j++) {
        sum[j] += g[j];
      }
    }
    assertEquals(SOURCES.length * 6, scores.size(), "every target x group pair");
    Map<Long, Double> value = new HashMap<>();
    for (int t = 0; t < 6; t++) {
      double[] gt = lossGradient(theta, targets.x()[t], targets.labels()[t]);
      for (Map.Entry<Long, String> e : sourceOfGroup.entrySet()) {
        double expected = 0;
        double[] gg = groupGrad.get(e.getValue());
        for (int j = 0; j < gt.length; j++) {
          expected += gt[j] * gg[j];
        }
        double got = scores.get(targets.ids()[t] + "/" + e.getKey());
        assertEquals(
            expected,
            got,
            1e-4 * Math.max(1, Math.abs(expected)),
            "target " + t + ", source " + e.getValue());
        value.merge(e.getKey(), got, Double::sum);
      }
    }
    for (Map.Entry<Long, String> e : sourceOfGroup.entrySet()) {
      double[] gg = groupGrad.get(e.getValue());
      double expected = 0;
      for (double v : gg) {
        expected += v * v;
      }
      assertEquals(
          expected,
          self.get(e.getKey()),
          1e-4 * Math.max(1, expected),
          "self-influence ||g_G||^2 of " + e.getValue());
    }
    for (int k = 0; k < values.size(); k++) {
      Row v = values.get(k);
      assertEquals(k + 1, v.getLong(4), "ranks run 1.. by value");
      assertEquals(
          value.get(v.getLong(0)), v.getDouble(2), 1e-9, "value is the score summed over targets");
      if (k > 0) {
        assertTrue(
            values.get(k - 1).getDouble(2) >= v.getDouble(2), "rank 1 has the highest value");
      }
    }

    // The same model given back: no training, the same scores.
    try (AttributionResult again = graddot(spark, train, targets).model(model).run()) {
      var stages =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(again.runJson())
              .path("stage_seconds");
      assertTrue(
          stages.has("model_given") && !stages.has("train"),
          "a given model is not trained again: " + stages);
      for (Row row : again.scores().collectAsList()) {
        assertEquals(scores.get(row.getLong(0) + "/" + row.getLong(1)), row.getDouble(2), 1e-12);
      }
    }
  }

  @Test
  void missingInputsAndBadColumnsAreInputErrorsNamingTheFix() {
    SparkSession spark = SparkTestSession.get();
    Rows train = rows(spark, 20, 0, 3);
    InputException noTargets =
        assertThrows(
            InputException.class, () -> GroupAttribution.builder(spark).train(train.df()).run());
    assertTrue(noTargets.getMessage().startsWith("targets: "), noTargets.getMessage());
    InputException badLabel =
        assertThrows(
            InputException.class,
            () ->
                GroupAttribution.builder(spark)
                    .columns("id", "y", "features")
                    .train(train.df())
                    .targets(train.df())
                    .run());
    assertTrue(
        badLabel.getMessage().contains("label column 'y' not found")
            && badLabel.getMessage().contains("label_col"),
        badLabel.getMessage());
    InputException badSize =
        assertThrows(
            InputException.class,
            () ->
                GroupAttribution.builder(spark)
                    .grouping(GroupMethod.RANDOM, 0)
                    .train(train.df())
                    .targets(train.df())
                    .run());
    assertTrue(badSize.getMessage().contains("group.size"), badSize.getMessage());
  }
}
