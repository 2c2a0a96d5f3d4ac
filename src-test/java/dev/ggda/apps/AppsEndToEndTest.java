package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.config.FlipKind;
import dev.ggda.config.PruneRankBy;
import dev.ggda.config.SyntheticSpec;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.spark.Ranks;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ggda prune` and `ggda detect-noise` through the CLI on small synthetic data, checked against
 * independent computations.
 */
class AppsEndToEndTest {
  static final int N = 1200;
  @TempDir Path tmp;

  static List<String> synthetic(String out) {
    return new ArrayList<>(
        List.of(
            "data.train.format=synthetic",
            "data.train.synthetic.n=" + N,
            "data.train.synthetic.dim=10",
            "data.train.synthetic.classes=4",
            "data.train.synthetic.separation=3.0",
            "data.targets.format=synthetic",
            "data.targets.synthetic.n=300",
            "data.targets.synthetic.dim=10",
            "data.targets.synthetic.classes=4",
            "data.targets.synthetic.separation=3.0",
            "model.kind=logistic",
            "train.epochs=3",
            "train.batch_size=32",
            "train.checkpoints=1",
            "group.method=kmeans-grad",
            "group.size=16",
            "attribute.method=trak",
            "attribute.projection.dim=32",
            "output.path=" + out));
  }

  static int cli(String command, List<String> sets, StringBuilder console, String... flags) {
    return dev.ggda.testing.CliCapture.run(command, sets, console, flags);
  }

  static SyntheticSpec trainSpec() {
    return new SyntheticSpec(N, 10, 4, 0.0, 3.0, 0);
  }

  static LoadedData loadSynthetic(SparkSession spark) {
    return DataLoader.load(
        spark,
        new DataSource(
            null, DataFormat.SYNTHETIC, "id", "label", "features", null, null, null, trainSpec()),
        null,
        "train");
  }

  static Map<Long, Long> groupsOf(SparkSession spark, Dataset<Row> groups) {
    Map<Long, Long> m = new HashMap<>();
    for (Row r :
        groups
            .select(
                functions.col("example_id").cast("long"), functions.col("group_id").cast("long"))
            .collectAsList()) {
      m.put(r.getLong(0), r.getLong(1));
    }
    return m;
  }

  @Test
  void prunesAParquetInputKeepingItsColumnsAndExactlyTheKeptRows() throws Exception {
    SparkSession spark = SparkTestSession.get();
    // A user table: non-contiguous ids, an extra column that must survive pruning.
    Path input = tmp.resolve("input.parquet");
    loadSynthetic(spark)
        .examples()
        .select(
            functions.col("example_id").multiply(7).plus(3).as("id"),
            functions.col("label"),
            functions.col("features"),
            functions
                .concat(functions.lit("src-"), functions.col("example_id").mod(3))
                .as("source"))
        .repartition(3)
        .write()
        .parquet(input.toString());
    Path out = tmp.resolve("prune");
    List<String> sets = synthetic(out.toString());
    sets.removeIf(s -> s.startsWith("data.train."));
    sets.addAll(
        List.of("data.train.path=" + input, "data.train.format=parquet", "group.method=label"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, cli("prune", sets, console), console::toString);
    assertTrue(Files.exists(out.resolve("_SUCCESS")));

    // Independent plan from the written group_values.
    List<GroupValue> values = new ArrayList<>();
    for (Row r : spark.read().parquet(out.resolve("group_values").toString()).collectAsList()) {
      values.add(
          new GroupValue(
              ((Number) r.getAs("group_id")).longValue(),
              ((Number) r.getAs("size")).longValue(),
              ((Number) r.getAs("value")).doubleValue(),
              ((Number) r.getAs("value_per_example")).doubleValue()));
    }
    values.sort(
        (a, b) ->
            a.valuePerExample() != b.valuePerExample()
                ? Double.compare(a.valuePerExample(), b.valuePerExample())
                : Long.compare(a.groupId(), b.groupId()));
    long target = Math.round(0.2 * N);
    Set<Long> droppedGroups = new HashSet<>();
    long dropped = 0;
    for (GroupValue g : values) {
      if (dropped + g.size() <= target) {
        droppedGroups.add(g.groupId());
        dropped += g.size();
      }
    }
    JsonNode manifest = new ObjectMapper().readTree(out.resolve("prune/manifest.json").toFile());
    assertEquals(N, manifest.at("/counts/examples_total").asLong());
    assertEquals(dropped, manifest.at("/counts/examples_dropped").asLong());
    assertEquals(N - dropped, manifest.at("/counts/examples_kept").asLong());
    assertEquals(droppedGroups.size(), manifest.at("/counts/groups_dropped").asInt());
    Set<Long> manifestDropped = new HashSet<>();
    manifest.get("dropped_group_ids").forEach(n -> manifestDropped.add(n.asLong()));
    assertEquals(droppedGroups, manifestDropped);
    assertEquals(values.size() - droppedGroups.size(), manifest.get("kept_group_ids").size());
    assertEquals("value-per-example", manifest.at("/ranking/rank_by").asText());
    assertEquals(0.2, manifest.at("/config/prune/fraction").asDouble());
    assertEquals(
        droppedGroups.size(),
        spark.read().parquet(out.resolve("prune/dropped_groups").toString()).count());
    assertEquals(
        values.size() - droppedGroups.size(),
        spark.read().parquet(out.resolve("prune/kept_groups").toString()).count());

    // The pruned data: the input's own columns, exactly the rows whose group was kept.
    Map<Long, Long> groupOf =
        groupsOf(spark, spark.read().parquet(out.resolve("groups").toString()));
    Set<Long> expectedIds = new TreeSet<>();
    for (Map.Entry<Long, Long> e : groupOf.entrySet()) {
      if (!droppedGroups.contains(e.getValue())) expectedIds.add(e.getKey());
    }
    Dataset<Row> pruned = spark.read().parquet(out.resolve("prune/data").toString());
    assertEquals(List.of("id", "label", "features", "source"), Arrays.asList(pruned.columns()));
    Set<Long> actualIds = new TreeSet<>();
    pruned.select("id").collectAsList().forEach(r -> actualIds.add(r.getLong(0)));
    assertEquals(expectedIds, actualIds);
    assertEquals(N - dropped, pruned.count());
    Dataset<Row> original = spark.read().parquet(input.toString());
    assertEquals(0, pruned.except(original).count(), "rows unchanged");

    JsonNode summary = new ObjectMapper().readTree(out.resolve("prune/summary.json").toFile());
    assertEquals(dropped, summary.get("examples_dropped").asLong());
    long after = 0;
    for (JsonNode c : summary.get("label_counts_after")) after += c.asLong();
    assertEquals(N - dropped, after);
    JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
    assertEquals(dropped, run.at("/prune/examples_dropped").asLong());
  }

  @Test
  void validateRetrainsAndSyntheticDataRoundTripsAsParquet() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("prune-validate");
    List<String> sets = synthetic(out.toString());
    sets.addAll(
        List.of(
            "prune.fraction=0.3",
            "prune.validate_fractions=[0.2, 0.4]",
            "prune.validate_seeds=2",
            "prune.validate_baselines=[loss]",
            "group.method=random"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, cli("prune", sets, console, "--validate"), console::toString);
    JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
    long validation = run.at("/counts/validation_targets").asLong();
    long test = run.at("/counts/test_targets").asLong();
    assertEquals(300, validation + test);
    assertTrue(test > 100 && test < 200, "half of the targets held out: " + test);

    List<Row> rows =
        spark
            .read()
            .parquet(out.resolve("prune/validation").toString())
            .orderBy("fraction", "strategy")
            .collectAsList();
    assertEquals(
        List.of("fraction", "strategy", "accuracy_mean", "accuracy_std", "seeds"),
        Arrays.asList(spark.read().parquet(out.resolve("prune/validation").toString()).columns()));
    assertEquals(8, rows.size());
    Set<String> strategies = new HashSet<>();
    for (Row r : rows) {
      strategies.add(r.getString(1));
      assertEquals(2, r.getInt(4));
      assertTrue(r.getDouble(2) > 0.3 && r.getDouble(2) <= 1.0, r.toString());
      assertTrue(r.getDouble(3) >= 0);
    }
    assertEquals(Set.of("attribution", "random", "full", "loss"), strategies);
    // full is the same reference at every fraction
    List<Double> full =
        rows.stream().filter(r -> r.getString(1).equals("full")).map(r -> r.getDouble(2)).toList();
    assertEquals(2, full.size());
    assertEquals(full.get(0), full.get(1), 0);

    // Synthetic input has no file form: the pruned set is canonical Parquet that the loader reads
    // back.
    JsonNode manifest = new ObjectMapper().readTree(out.resolve("prune/manifest.json").toFile());
    assertEquals("parquet", manifest.at("/data/format").asText());
    assertTrue(
        manifest.at("/data/path").asText().endsWith("prune-validate/prune/data"),
        manifest.at("/data/path").asText());
    JsonNode summary = new ObjectMapper().readTree(out.resolve("prune/summary.json").toFile());
    assertEquals(8, summary.get("validation").size());
    for (JsonNode v : summary.get("validation")) {
      Row match =
          rows.stream()
              .filter(
                  r ->
                      r.getDouble(0) == v.get("fraction").asDouble()
                          && r.getString(1).equals(v.get("strategy").asText()))
              .findFirst()
              .orElseThrow();
      assertEquals(match.getDouble(2), v.get("accuracy_mean").asDouble(), 0);
    }
    LoadedData back =
        DataLoader.load(
            spark,
            new DataSource(
                out.resolve("prune/data").toString(),
                DataFormat.PARQUET,
                "id",
                "label",
                "features",
                null,
                null,
                null,
                null),
            4,
            "train");
    Set<Long> droppedGroups = new HashSet<>();
    manifest.get("dropped_group_ids").forEach(n -> droppedGroups.add(n.asLong()));
    Set<Long> expected = new TreeSet<>();
    groupsOf(spark, spark.read().parquet(out.resolve("groups").toString()))
        .forEach(
            (id, g) -> {
              if (!droppedGroups.contains(g)) expected.add(id);
            });
    Set<Long> actual = new TreeSet<>();
    back.examples().select("example_id").collectAsList().forEach(r -> actual.add(r.getLong(0)));
    assertEquals(expected, actual);
    long droppedCount = manifest.at("/counts/examples_dropped").asLong();
    assertTrue(
        droppedCount <= Math.round(0.3 * N) && droppedCount > Math.round(0.3 * N) - 50,
        "dropped " + droppedCount);
  }

  @Test
  void pruneWithInjectedNoiseCountsTheDroppedFlipsAndValidatesTheOracle() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("prune-noise");
    List<String> sets = synthetic(out.toString());
    sets.addAll(
        List.of(
            "prune.validate_fractions=[0.2]",
            "prune.validate_seeds=1",
            "prune.validate_baselines=[loss, checkpoint-self-influence, refit-loss]",
            "noise.inject_fraction=0.2",
            "noise.inject_kind=pair",
            "noise.seed=4",
            "train.checkpoints=2"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, cli("prune", sets, console, "--validate", "--inject-noise"), console::toString);
    assertFalse(Files.exists(out.resolve("prune/data")), "an evaluation run writes no pruned set");
    ObjectMapper json = new ObjectMapper();
    JsonNode manifest = json.readTree(out.resolve("prune/manifest.json").toFile());
    assertFalse(manifest.at("/data/written").asBoolean(true));

    long[] flipped =
        NoiseInjection.apply(spark, loadSynthetic(spark), 0.2, FlipKind.PAIR, 4).flippedIds();
    Set<Long> droppedGroups = new HashSet<>();
    manifest.get("dropped_group_ids").forEach(n -> droppedGroups.add(n.asLong()));
    Set<Long> flips = new HashSet<>();
    for (long id : flipped) flips.add(id);
    long droppedFlips =
        groupsOf(spark, spark.read().parquet(out.resolve("groups").toString())).entrySet().stream()
            .filter(e -> droppedGroups.contains(e.getValue()) && flips.contains(e.getKey()))
            .count();
    JsonNode summary = json.readTree(out.resolve("prune/summary.json").toFile());
    assertEquals(flipped.length, summary.at("/noise/injected_flips").asInt());
    assertEquals("pair", summary.at("/noise/inject_kind").asText());
    assertEquals(droppedFlips, summary.at("/noise/dropped_flipped").asLong());

    Map<String, Double> acc = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("prune/validation").toString()).collectAsList()) {
      acc.put(r.getString(1), r.getDouble(2));
    }
    assertEquals(
        Set.of(
            "full",
            "attribution",
            "random",
            "loss",
            "checkpoint-self-influence",
            "refit-loss",
            "oracle"),
        acc.keySet());
    // Pair flips bias the model; training without them cannot do much worse than with them.
    assertTrue(acc.get("oracle") >= acc.get("full") - 0.01, acc.toString());
  }

  @Test
  void detectNoiseFindsInjectedFlipsAndReportsCurves() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("noise");
    List<String> sets = synthetic(out.toString());
    sets.addAll(List.of("noise.inject_fraction=0.1", "noise.seed=5", "train.epochs=5"));
    StringBuilder console = new StringBuilder();
    assertEquals(0, cli("detect-noise", sets, console, "--inject-noise"), console::toString);

    Dataset<Row> ranked = spark.read().parquet(out.resolve("noise/ranked_examples").toString());
    List<Row> rows = ranked.orderBy("rank").collectAsList();
    assertEquals(N, rows.size());
    Map<Long, Integer> clean = new HashMap<>();
    for (Row r : loadSynthetic(spark).examples().select("example_id", "label").collectAsList()) {
      clean.put(r.getLong(0), r.getInt(1));
    }
    int flips = 0;
    List<Long> flippedRanks = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      assertEquals(i + 1, r.getLong(r.fieldIndex("rank")));
      long id = r.getLong(r.fieldIndex("example_id"));
      boolean flipped = r.getBoolean(r.fieldIndex("flipped"));
      int label = r.getInt(r.fieldIndex("label"));
      // Flipped examples carry another class, all others their own.
      assertEquals(flipped, label != clean.get(id), "example " + id);
      if (flipped) {
        flips++;
        flippedRanks.add((long) i + 1);
      }
      if (i > 0) {
        Row prev = rows.get(i - 1);
        double s0 = prev.getDouble(prev.fieldIndex("score"));
        double s1 = r.getDouble(r.fieldIndex("score"));
        assertTrue(s0 >= s1, "scores descend");
        if (prev.getLong(prev.fieldIndex("group_id")) == r.getLong(r.fieldIndex("group_id"))) {
          assertTrue(
              prev.getDouble(prev.fieldIndex("example_signal"))
                  >= r.getDouble(r.fieldIndex("example_signal")),
              "the example signal descends inside a group");
        }
      }
      assertEquals(
          r.getDouble(r.fieldIndex("refit_loss")),
          r.getDouble(r.fieldIndex("example_signal")),
          "refit-loss orders the examples by default");
    }
    assertEquals(Math.round(0.1 * N), flips);

    // AUC of the group ranking recomputed by trapezoids over the written ranking.
    double area = 0;
    double prev = 0;
    int found = 0;
    Set<Long> fr = new HashSet<>(flippedRanks);
    for (long k = 1; k <= N; k++) {
      if (fr.contains(k)) found++;
      double rec = (double) found / flips;
      area += (prev + rec) / 2 / N;
      prev = rec;
    }
    Dataset<Row> summary = spark.read().parquet(out.resolve("noise/summary").toString());
    assertEquals(List.of("method", "auc", "recall_at_20"), Arrays.asList(summary.columns()));
    Map<String, Double> auc = new HashMap<>();
    Map<String, Double> at20 = new HashMap<>();
    for (Row r : summary.collectAsList()) {
      auc.put(r.getString(0), r.getDouble(1));
      at20.put(r.getString(0), r.getDouble(2));
    }
    assertEquals(
        Set.of(
            "group-attribution",
            "per-example-attribution",
            "loss",
            "margin",
            "checkpoint-loss",
            "checkpoint-self-influence",
            "refit-loss",
            "random"),
        auc.keySet());
    assertEquals(area, auc.get("group-attribution"), 1e-12);
    long inTop20 = flippedRanks.stream().filter(k -> k <= Math.round(0.2 * N)).count();
    assertEquals((double) inTop20 / flips, at20.get("group-attribution"), 1e-12);
    assertTrue(auc.get("loss") > 0.8, "loss ranking finds flips: " + auc);
    assertTrue(auc.get("random") > 0.35 && auc.get("random") < 0.65, "random is random: " + auc);
    assertTrue(auc.get("group-attribution") > auc.get("random"), auc.toString());

    Dataset<Row> curve = spark.read().parquet(out.resolve("noise/curve").toString());
    assertEquals(List.of("method", "inspected_fraction", "recall"), Arrays.asList(curve.columns()));
    for (String method : auc.keySet()) {
      List<Row> pts =
          curve
              .where(functions.col("method").equalTo(method))
              .orderBy("inspected_fraction")
              .collectAsList();
      assertEquals(101, pts.size());
      assertEquals(0.0, pts.get(0).getDouble(2));
      assertEquals(1.0, pts.get(100).getDouble(2));
      for (int i = 1; i < pts.size(); i++)
        assertTrue(pts.get(i).getDouble(2) >= pts.get(i - 1).getDouble(2));
      assertEquals(at20.get(method), pts.get(20).getDouble(2), 1e-12);
    }
    Dataset<Row> groups = spark.read().parquet(out.resolve("noise/ranked_groups").toString());
    assertEquals(flips, groups.agg(functions.sum("flipped")).first().getLong(0));
    JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
    assertTrue(run.at("/noise/methods/group-attribution/seconds").asDouble() > 0);
    assertEquals(flips, run.at("/noise/injected_flips").asInt());
  }

  @Test
  void badInputIsOneLineExit2AndLeavesNoOutput() {
    List<String[]> cases =
        List.of(
            new String[] {"prune", "data.targets.path=null", "data.targets", ""},
            new String[] {
              "detect-noise",
              "data.targets.path=null",
              "noise.signal validation",
              "noise.signal=validation"
            },
            new String[] {
              "prune", "prune.fraction=1.5", "prune.fraction must be a number in (0, 1)", ""
            },
            new String[] {
              "detect-noise",
              "noise.refit_fraction=0",
              "noise.refit_fraction must be a number in (0, 1)",
              ""
            },
            new String[] {
              "detect-noise",
              "noise.example_signal=gradient",
              "noise.example_signal must be one of loss, margin",
              ""
            });
    int i = 0;
    for (String[] c : cases) {
      Path out = tmp.resolve("bad" + i++);
      List<String> sets = synthetic(out.toString());
      if (c[1].startsWith("data.targets")) {
        sets.removeIf(s -> s.startsWith("data.targets."));
      } else {
        sets.add(c[1]);
      }
      if (!c[3].isEmpty()) sets.add(c[3]);
      StringBuilder console = new StringBuilder();
      assertEquals(2, cli(c[0], sets, console), console::toString);
      String err = console.toString().strip();
      String last = err.substring(err.lastIndexOf('\n') + 1);
      assertTrue(last.startsWith("ggda: error: ") && last.contains(c[2]), err);
      assertFalse(Files.exists(out), "no output for " + c[1]);
    }
  }

  @Test
  void rankingAndNoiseInjectionDoNotDependOnPartitioning() {
    SparkSession spark = SparkTestSession.get();
    LoadedData data = loadSynthetic(spark);
    long[] a = NoiseInjection.apply(spark, data, 0.1, FlipKind.UNIFORM, 9).flippedIds();
    LoadedData re =
        new LoadedData(data.examples().repartition(7), data.dim(), data.classes(), data.count());
    NoiseInjection.Injected b = NoiseInjection.apply(spark, re, 0.1, FlipKind.UNIFORM, 9);
    assertArrayEquals(a, b.flippedIds());
    assertEquals(120, a.length);
    Dataset<Row> t =
        data.examples()
            .select(
                functions.col("example_id"),
                functions.col("example_id").mod(5).cast("double").as("score"));
    List<Row> r1 =
        Ranks.rank(
                spark,
                t.repartition(1),
                functions.col("score").desc(),
                functions.col("example_id").asc())
            .orderBy("rank")
            .collectAsList();
    List<Row> r7 =
        Ranks.rank(
                spark,
                t.repartition(7),
                functions.col("score").desc(),
                functions.col("example_id").asc())
            .orderBy("rank")
            .collectAsList();
    assertEquals(r1, r7);
    assertEquals(4L, r1.get(0).getLong(1) % 5);
  }

  @Test
  void idxPrunedFilesReadBackWithTheSamePixelsAndLabels() {
    SparkSession spark = SparkTestSession.get();
    int n = 30;
    int dim = 16;
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] x = new float[dim];
      for (int j = 0; j < dim; j++) x[j] = ((i * 31 + j * 7) % 256) / 255f;
      rows.add(org.apache.spark.sql.RowFactory.create((long) i * 2, i % 3, x));
    }
    Dataset<Row> ex = spark.createDataFrame(rows, dev.ggda.data.Columns.schema(false));
    Path dir = tmp.resolve("idx");
    PrunedData.writeIdx(spark, new LoadedData(ex, dim, 3, n), dir.toString());
    LoadedData back =
        DataLoader.load(
            spark,
            new DataSource(
                dir.resolve("train-images-idx3-ubyte.gz").toString(),
                DataFormat.IDX,
                "id",
                "label",
                "features",
                null,
                null,
                null,
                null),
            3,
            "train");
    LocalData a = LocalData.collect(new LoadedData(ex, dim, 3, n));
    LocalData b = LocalData.collect(back);
    assertArrayEquals(a.labels(), b.labels());
    assertArrayEquals(a.features(), b.features(), 1e-7f);
    assertEquals(n, b.size());
  }

  @Test
  void prunePlanRanksBySummedValueWhenAsked() {
    List<GroupValue> g = List.of(new GroupValue(0, 10, -5, -0.5), new GroupValue(1, 1, -2, -2));
    assertEquals(
        0L, PrunePlan.plan(g, PruneRankBy.VALUE, 0.95, null).droppedGroups().get(0).groupId());
    assertEquals(
        1L,
        PrunePlan.plan(g, PruneRankBy.VALUE_PER_EXAMPLE, 0.95, null)
            .droppedGroups()
            .get(0)
            .groupId());
  }
}
