package dev.ggda.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ggda evaluate` end to end on a small synthetic problem (softmax regression, exact influence
 * functions): the tables and run.json block exist and agree, exact IF has a high LDS and removes
 * what matters (its top-valued groups raise the target loss more than random removal), and the same
 * pipeline with the scores replaced by noise has an LDS near zero, so the metric can fail.
 */
class EvaluateCommandTest {
  @TempDir Path tmp;

  static List<String> sets(String out, int groupSize, String metrics) {
    return List.of(
        "group.size=" + groupSize,
        "evaluate.metrics=" + metrics,
        "data.train.format=synthetic",
        "data.train.synthetic.n=400",
        "data.train.synthetic.dim=6",
        "data.train.synthetic.classes=3",
        "data.train.synthetic.separation=2.0",
        "data.train.synthetic.seed=3",
        "data.targets.format=synthetic",
        "data.targets.synthetic.n=16",
        "data.targets.synthetic.dim=6",
        "data.targets.synthetic.classes=3",
        "data.targets.synthetic.separation=2.0",
        "data.targets.synthetic.seed=3",
        "model.kind=logistic",
        "model.l2=0.01",
        "train.epochs=6",
        "train.batch_size=32",
        "train.learning_rate=0.2",
        "train.checkpoints=1",
        "group.method=random",
        "attribute.method=if",
        "attribute.hessian=exact",
        "attribute.projection.kind=none",
        "attribute.damping=0.0",
        "attribute.relative_damping=0",
        "evaluate.subsets=16",
        "evaluate.fraction=0.5",
        "evaluate.removal_fractions=[0.1, 0.2]",
        "evaluate.removal_seeds=2",
        "evaluate.loo_groups=12",
        "output.path=" + out);
  }

  static int run(String command, List<String> sets, StringBuilder console) {
    return dev.ggda.testing.CliCapture.run(command, sets, console);
  }

  static Map<String, Double> summary(SparkSession spark, Path out) {
    Map<String, Double> summary = new HashMap<>();
    for (Row r :
        spark.read().parquet(out.resolve("evaluation/summary").toString()).collectAsList()) {
      summary.put(r.getString(0), r.isNullAt(1) ? Double.NaN : r.getDouble(1));
    }
    return summary;
  }

  /**
   * Per-example IF: LDS, counterfactual removal, the tables and run.json, and LDS of noise scores.
   */
  @Test
  void perExampleInfluenceHasHighLdsAndRemovesWhatMatters() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("eval");
    StringBuilder console = new StringBuilder();
    // Five independently seeded runs per subset: a truth with little of SGD's noise left in it.
    List<String> fiveRuns = new ArrayList<>(sets(out.toString(), 1, "[lds, removal]"));
    fiveRuns.add("evaluate.seeds=5");
    assertEquals(0, run("evaluate", fiveRuns, console), console::toString);
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    assertFalse(Files.exists(out.resolve("_stages")), "retrainings are staging state, not output");
    Map<String, Double> summary = summary(spark, out);
    System.out.println("evaluate summary, group size 1: " + summary);
    JsonNode runJson = new ObjectMapper().readTree(out.resolve("run.json").toFile());
    assertEquals(
        summary.get("lds"),
        runJson.path("evaluation").path("lds").asDouble(),
        1e-12,
        runJson::toPrettyString);
    JsonNode protocol = runJson.path("evaluation").path("protocol");
    assertEquals(16, protocol.path("targets").asInt(), protocol::toPrettyString);
    assertEquals("independent", protocol.path("seed_mode").asText(), protocol::toPrettyString);
    assertEquals(5, protocol.path("runs_per_subset").asInt(), protocol::toPrettyString);

    // LDS is the mean of the per-target rows of evaluation/lds.
    List<Row> perTarget =
        spark
            .read()
            .parquet(out.resolve("evaluation/lds").toString())
            .where("metric = 'lds'")
            .collectAsList();
    assertEquals(16, perTarget.size());
    double mean =
        perTarget.stream()
            .filter(r -> !r.isNullAt(2))
            .mapToDouble(r -> r.getDouble(2))
            .average()
            .orElseThrow();
    assertEquals(mean, summary.get("lds"), 1e-12);
    assertTrue(
        summary.get("lds") > 0.5,
        "exact IF on softmax regression should predict subset retraining: " + summary);

    // Removal: none + attributed/random per fraction, removing the same number of examples.
    List<Row> removal =
        spark.read().parquet(out.resolve("evaluation/removal").toString()).collectAsList();
    assertEquals(5, removal.size());
    for (Row r : removal) {
      if (!r.getString(1).equals("none")) {
        assertEquals((long) Math.ceil(r.getDouble(0) * 400), r.getLong(2), r.toString());
      }
    }
    assertTrue(
        summary.get("removal_effect") > summary.get("random_removal_effect") + 0.01,
        "removing the top-valued examples must hurt the targets more than random removal: "
            + summary);

    // The same LDS of pure-noise scores collapses, so the high LDS above is earned.
    var config =
        dev.ggda.config.ConfigLoader.fromYaml(
            "", sets(tmp.resolve("unused").toString(), 1, "[lds]"));
    var groups = spark.read().parquet(out.resolve("groups").toString());
    var noise =
        spark
            .read()
            .parquet(out.resolve("scores").toString())
            .withColumn("score", org.apache.spark.sql.functions.randn(11));
    var values = spark.read().parquet(out.resolve("group_values").toString());
    EvaluationStage.Fidelity r =
        new EvaluationStage(
                spark,
                config.evaluate(),
                inputs(spark, config),
                tmp.resolve("retrain").toString(),
                line -> {})
            .evaluate(new EvaluationStage.Attribution("noise", groups, noise, values));
    System.out.println("LDS of noise scores: " + r.lds);
    assertTrue(Math.abs(r.lds) < 0.25, "noise scores must not have a real LDS: " + r.lds);
  }

  static EvaluationStage.Inputs inputs(SparkSession spark, dev.ggda.config.GgdaConfig config) {
    var pipeline =
        new dev.ggda.pipeline.Pipeline(spark, config, "test", dev.ggda.pipeline.Console.progress());
    pipeline.load();
    return new EvaluationStage.Inputs(
        dev.ggda.data.LocalData.collect(pipeline.trainData()),
        dev.ggda.data.LocalData.collect(pipeline.targetData()),
        dev.ggda.math.Architecture.logistic(6, 3),
        config.train(),
        config.model().l2());
  }

  /**
   * The noise argument on the small problem: a truth from one independently seeded retraining per
   * subset carries SGD's noise, so its LDS is below the LDS of shared seeds (common random numbers
   * move every subset alike) and rises again when each subset's margins are averaged over five
   * independent runs.
   */
  @Test
  void ldsMovesWithTheRetrainingNoiseAsTheNoiseArgumentPredicts() {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("noisy");
    List<String> noisy = new ArrayList<>(sets(out.toString(), 1, "[lds]"));
    noisy.addAll(List.of("train.schedule=linear", "evaluate.subsets=24"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, run("run", noisy, console), console::toString);
    var config = dev.ggda.config.ConfigLoader.fromYaml("", noisy);
    EvaluationStage.Inputs inputs = inputs(spark, config);
    var attribution =
        new EvaluationStage.Attribution(
            "if",
            spark.read().parquet(out.resolve("groups").toString()),
            spark.read().parquet(out.resolve("scores").toString()),
            spark.read().parquet(out.resolve("group_values").toString()));
    Map<String, Double> lds = new java.util.LinkedHashMap<>();
    Map<String, EvaluationStage.Fidelity> results = new java.util.LinkedHashMap<>();
    for (String setting : List.of("shared 1", "independent 1", "independent 5")) {
      String[] modeRuns = setting.split(" ");
      var e = config.evaluate();
      var protocol =
          new dev.ggda.config.EvaluateConfig(
              e.metrics(),
              e.subsets(),
              e.fraction(),
              Integer.parseInt(modeRuns[1]),
              dev.ggda.config.SeedMode.valueOf(modeRuns[0].toUpperCase(java.util.Locale.ROOT)),
              e.groupSubsets(),
              e.removalFractions(),
              e.removalSeeds(),
              e.looGroups(),
              e.seed(),
              e.retrainStore());
      results.put(
          setting,
          new EvaluationStage(
                  spark, protocol, inputs, tmp.resolve("retrain-noisy").toString(), line -> {})
              .evaluate(attribution));
      lds.put(setting, results.get(setting).lds);
    }
    System.out.println("LDS by retraining protocol: " + lds);
    assertTrue(lds.get("shared 1") > lds.get("independent 1") + 0.05, lds::toString);
    assertTrue(lds.get("independent 5") > lds.get("independent 1") + 0.05, lds::toString);
    // The first of five independent runs is the one-run protocol's retraining.
    assertEquals(lds.get("independent 1"), results.get("independent 5").ldsOneRun, 1e-12);
    assertEquals(lds.get("independent 1"), results.get("independent 1").ldsOneRun, 1e-12);
  }

  /** Groups of 4: group LDS and leave-one-group-out. */
  @Test
  void groupInfluencePredictsGroupSubsetsAndLeaveOneGroupOut() {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("groups4");
    StringBuilder console = new StringBuilder();
    List<String> fiveRuns = new ArrayList<>(sets(out.toString(), 4, "[group-lds, loo]"));
    fiveRuns.add("evaluate.seeds=5");
    assertEquals(0, run("evaluate", fiveRuns, console), console::toString);
    Map<String, Double> summary = summary(spark, out);
    System.out.println("evaluate summary, group size 4: " + summary);
    assertTrue(summary.get("group_lds") > 0.5, summary::toString);
    assertTrue(summary.get("loo_pearson") > 0.5, summary::toString);
    assertEquals(12, spark.read().parquet(out.resolve("evaluation/loo").toString()).count());
    assertTrue(Double.isNaN(summary.get("lds")), "lds was not asked for");
  }

  /**
   * The efficiency-fidelity grid: one row per method x projection x cell, and its per-example cell
   * equals a plain `ggda evaluate` of the same setting (same retrainings, same scores).
   */
  @Test
  void gridRowsMatchAPlainEvaluationOfTheSameSetting() {
    SparkSession spark = SparkTestSession.get();
    Path grid = tmp.resolve("grid");
    StringBuilder console = new StringBuilder();
    assertEquals(
        0,
        dev.ggda.testing.CliCapture.run(
            "evaluate",
            sets(grid.toString(), 4, "[lds, group-lds]"),
            console,
            "--methods",
            "if,graddot",
            "--projections",
            "none:21,rademacher:12",
            "--groupings",
            "random",
            "--group-sizes",
            "4"),
        console::toString);
    List<Row> rows =
        spark
            .read()
            .parquet(grid.resolve("evaluation/efficiency_fidelity").toString())
            .collectAsList();
    assertEquals(8, rows.size(), rows::toString);
    Map<String, Row> byKey = new HashMap<>();
    for (Row r : rows) {
      byKey.put(r.getAs("method") + " " + r.getAs("projection") + " " + r.getAs("group_size"), r);
    }
    for (String method : List.of("if", "graddot")) {
      for (String projection : List.of("none:21", "rademacher:12")) {
        Row one = byKey.get(method + " " + projection + " 1");
        Row four = byKey.get(method + " " + projection + " 4");
        assertEquals("per-example", one.getAs("grouping"));
        assertEquals(1.0, (Double) one.getAs("speedup"), 1e-12);
        // Random assignment to 100 groups of about 4 can leave a group empty.
        long groups = (Long) four.getAs("groups");
        assertTrue(groups > 90 && groups <= 100, four::toString);
        assertTrue(Double.isFinite((Double) four.getAs("group_lds")), four::toString);
      }
    }

    Path plain = tmp.resolve("plain");
    assertEquals(
        0, run("evaluate", sets(plain.toString(), 1, "[lds]"), console), console::toString);
    double lds = summary(spark, plain).get("lds");
    assertEquals(
        lds, (Double) byKey.get("if none:21 1").getAs("lds"), 1e-9, "grid cell vs plain evaluate");
  }

  /**
   * --kernels and --hessians: each TRAK kernel and IF Hessian is a variant with its own rows, named
   * in the mode column; per-example TRAK runs once (it uses the exact kernel whatever is set), and
   * every variant's speedup is against the per-example row of the first mode listed.
   */
  @Test
  void modeSweepRowsShareTheFirstModesPerExampleBaseline() {
    SparkSession spark = SparkTestSession.get();
    Path grid = tmp.resolve("mode-grid");
    StringBuilder console = new StringBuilder();
    assertEquals(
        0,
        dev.ggda.testing.CliCapture.run(
            "evaluate",
            sets(grid.toString(), 4, "[lds, group-lds]"),
            console,
            "--methods",
            "trak,if",
            "--kernels",
            "sampled,group",
            "--hessians",
            "exact,group",
            "--groupings",
            "random",
            "--group-sizes",
            "4"),
        console::toString);
    List<Row> rows =
        spark
            .read()
            .parquet(grid.resolve("evaluation/efficiency_fidelity").toString())
            .collectAsList();
    Map<String, Row> byKey = new HashMap<>();
    for (Row r : rows) {
      byKey.put(r.getAs("mode") + " " + r.getAs("group_size"), r);
    }
    assertEquals(
        java.util.Set.of(
            "kernel sampled 1",
            "kernel sampled 4",
            "kernel group 4",
            "hessian exact 1",
            "hessian group 1",
            "hessian exact 4",
            "hessian group 4"),
        byKey.keySet(),
        rows::toString);
    for (String[] pair :
        new String[][] {
          {"kernel sampled 1", "kernel group 4"},
          {"hessian exact 1", "hessian group 1"},
          {"hessian exact 1", "hessian group 4"}
        }) {
      double base = (Double) byKey.get(pair[0]).getAs("attribution_seconds");
      Row r = byKey.get(pair[1]);
      assertEquals(
          base / (Double) r.getAs("attribution_seconds"),
          (Double) r.getAs("speedup"),
          1e-9,
          pair[1] + " against " + pair[0]);
    }
    double exactLds = (Double) byKey.get("hessian exact 1").getAs("lds");
    double fisherLds = (Double) byKey.get("hessian group 1").getAs("lds");
    assertTrue(
        Math.abs(exactLds - fisherLds) > 1e-6,
        "the empirical Fisher is not the Gauss-Newton Hessian: " + exactLds + " vs " + fisherLds);
    for (Row r : rows) {
      assertTrue(Double.isFinite((Double) r.getAs("lds")), r::toString);
    }
  }

  /**
   * A damping sweep featurizes once per cell and solves again per damping: the reused features give
   * exactly the LDS of a plain `ggda evaluate` run with that damping, and the damping does change
   * it.
   */
  @Test
  void dampingSweepReusesFeaturesAndMatchesAPlainEvaluationOfEachDamping() {
    SparkSession spark = SparkTestSession.get();
    Path grid = tmp.resolve("damped-grid");
    StringBuilder console = new StringBuilder();
    assertEquals(
        0,
        dev.ggda.testing.CliCapture.run(
            "evaluate",
            sets(grid.toString(), 4, "[lds]"),
            console,
            "--methods",
            "if",
            "--projections",
            "none:21",
            "--dampings",
            "0,0.3",
            "--groupings",
            "random",
            "--group-sizes",
            "4"),
        console::toString);
    assertTrue(
        console.toString().contains("damping 0.3: solving again on the same features"),
        console::toString);
    List<Row> rows =
        spark
            .read()
            .parquet(grid.resolve("evaluation/efficiency_fidelity").toString())
            .collectAsList();
    assertEquals(4, rows.size(), rows::toString);
    Map<String, Row> byKey = new HashMap<>();
    for (Row r : rows) {
      byKey.put(r.getAs("damping") + " " + r.getAs("group_size"), r);
    }
    double undamped = (Double) byKey.get("0 1").getAs("lds");
    double damped = (Double) byKey.get("0.3 1").getAs("lds");
    assertTrue(
        Math.abs(undamped - damped) > 1e-6,
        "damping must change the scores: " + undamped + " vs " + damped);

    Path plain = tmp.resolve("damped-plain");
    List<String> plainSets = new java.util.ArrayList<>(sets(plain.toString(), 1, "[lds]"));
    plainSets.replaceAll(x -> x.equals("attribute.damping=0.0") ? "attribute.damping=0.3" : x);
    assertEquals(0, run("evaluate", plainSets, console), console::toString);
    assertEquals(
        summary(spark, plain).get("lds"), damped, 1e-9, "reused-feature cell vs plain evaluate");
  }

  /**
   * evaluate.retrain_store: a second evaluation of the same recipe, training set and targets
   * retrains nothing and measures exactly the same; another recipe (another L2 term) does not reuse
   * them.
   */
  @Test
  void retrainStoreSharesRetrainingsBetweenEvaluationsOfOneRecipe() {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("stored");
    List<String> s = new ArrayList<>(sets(out.toString(), 1, "[lds]"));
    s.add("evaluate.retrain_store=" + tmp.resolve("store"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, run("run", s, console), console::toString);
    var attribution =
        new EvaluationStage.Attribution(
            "if",
            spark.read().parquet(out.resolve("groups").toString()),
            spark.read().parquet(out.resolve("scores").toString()),
            spark.read().parquet(out.resolve("group_values").toString()));
    var config = dev.ggda.config.ConfigLoader.fromYaml("", s);
    EvaluationStage.Inputs inputs = inputs(spark, config);
    List<String> first = new ArrayList<>();
    List<String> second = new ArrayList<>();
    double lds1 =
        new EvaluationStage(spark, config.evaluate(), inputs, null, first::add)
            .evaluate(attribution)
            .lds;
    double lds2 =
        new EvaluationStage(spark, config.evaluate(), inputs, null, second::add)
            .evaluate(attribution)
            .lds;
    assertFalse(first.stream().anyMatch(l -> l.contains("reused")), first::toString);
    assertTrue(
        second.contains("retrain: 16 of 16 retrainings reused from earlier runs"),
        second::toString);
    assertEquals(lds1, lds2, 0.0);

    List<String> otherL2 = new ArrayList<>(s);
    otherL2.add("model.l2=0.02");
    var other = dev.ggda.config.ConfigLoader.fromYaml("", otherL2);
    List<String> third = new ArrayList<>();
    new EvaluationStage(spark, other.evaluate(), inputs(spark, other), null, third::add)
        .evaluate(attribution);
    assertFalse(
        third.stream().anyMatch(l -> l.contains("reused")), "another recipe retrains: " + third);
  }

  @Test
  void topKIsRefusedBeforeAnyWork() {
    StringBuilder console = new StringBuilder();
    List<String> s = new ArrayList<>(sets(tmp.resolve("topk").toString(), 4, "[lds]"));
    s.add("output.top_k=3");
    assertEquals(2, run("evaluate", s, console));
    assertTrue(
        console
            .toString()
            .contains("ggda: error: output.top_k: evaluation needs every target x group score"),
        console::toString);
    assertFalse(Files.exists(tmp.resolve("topk")));
  }
}
