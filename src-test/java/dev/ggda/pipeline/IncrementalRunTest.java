package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.cli.Main;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * incremental.store on a table that grows by one file a day, with a pinned model: after every
 * change (a file added, a file added again, a file lost, a file rewritten, the model replaced), for
 * column groups under each kernel kind and for per-example groups, the incremental run's scores
 * equal a full run's over the same table to 1e-6 of the largest score, and run.json says how many
 * files it featurized, reused and left out, and why it started over.
 */
class IncrementalRunTest {
  @TempDir static Path tmp;

  private static final int DIM = 5;
  private static final int CLASSES = 3;

  /**
   * One day's file: rows whose vendor column spans days (v0..v3, and null, a group of its own) plus
   * one vendor of its own.
   */
  static void writeDay(Path table, int day, int rows) {
    SparkSession spark = SparkTestSession.get();
    Random rnd = new Random(100 + day);
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      int label = rnd.nextInt(CLASSES);
      List<Float> x = new ArrayList<>();
      for (int d = 0; d < DIM; d++) {
        x.add((float) ((d % CLASSES == label ? 2.0 : 0.0) + rnd.nextGaussian()));
      }
      String vendor = i % 5 == 4 ? "only-day-" + day : i % 7 == 3 ? null : "v" + (i % 4);
      out.add(RowFactory.create(label, x, vendor));
    }
    StructType schema =
        new StructType()
            .add("label", DataTypes.IntegerType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("vendor", DataTypes.StringType, true);
    spark
        .createDataFrame(out, schema)
        .coalesce(1)
        .write()
        .mode("overwrite")
        .parquet(table.resolve("day=" + day).toString());
  }

  static List<String> sets(String method, Path table, Path out, String model, String store) {
    List<String> s =
        new ArrayList<>(
            List.of(
                "data.train.path=" + table,
                "data.train.format=parquet",
                "data.train.group_col=vendor",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=4",
                "data.targets.synthetic.dim=" + DIM,
                "data.targets.synthetic.classes=" + CLASSES,
                "data.targets.synthetic.seed=9",
                "data.classes=" + CLASSES,
                "model.kind=mlp",
                "model.hidden=[4]",
                "train.epochs=2",
                "train.checkpoints=2",
                "group.method=column",
                "attribute.projection.dim=16",
                "output.path=" + out,
                "output.mode=overwrite"));
    switch (method) {
      case "trak-sampled" -> s.addAll(List.of("attribute.method=trak", "attribute.kernel=sampled"));
      case "trak-batched" -> s.addAll(List.of("attribute.method=trak", "attribute.kernel=batched"));
      case "if-projected" ->
          s.addAll(List.of("attribute.method=if", "attribute.hessian=projected"));
      case "tracin" -> s.add("attribute.method=tracin");
      case "per-example-trak" ->
          s.addAll(List.of("attribute.method=trak", "group.method=random", "group.size=1"));
      default -> throw new IllegalArgumentException(method);
    }
    if (model != null) {
      s.add("model.load=" + model);
    }
    if (store != null) {
      s.add("incremental.store=" + store);
    }
    return s;
  }

  static JsonNode incremental(Path out) throws IOException {
    return new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("incremental");
  }

  /** Runs full and incremental over the table as it is now; returns the incremental record. */
  static JsonNode compare(String method, Path table, String model, Path store, String tag)
      throws IOException {
    Path full = tmp.resolve(method + "-full-" + tag);
    Path inc = tmp.resolve(method + "-inc-" + tag);
    assertEquals(0, Main.execute(EndToEndTest.args("run", sets(method, table, full, model, null))));
    assertEquals(
        0,
        Main.execute(EndToEndTest.args("run", sets(method, table, inc, model, store.toString()))));
    assertSameScores(full, inc, tag);
    assertNull(incremental(full), "a run without a store records no incremental section");
    return incremental(inc);
  }

  /** The same (target, group) pairs, every score within 1e-6 of the largest. */
  static void assertSameScores(Path full, Path inc, String tag) {
    Map<String, Double> want = ResumeTest.scores(full);
    Map<String, Double> got = ResumeTest.scores(inc);
    assertEquals(want.keySet(), got.keySet(), tag);
    double scale = want.values().stream().mapToDouble(Math::abs).max().orElse(0);
    assertTrue(scale > 0, tag);
    for (var e : want.entrySet()) {
      assertEquals(e.getValue(), got.get(e.getKey()), 1e-6 * scale, tag + " " + e.getKey());
    }
  }

  static void assertFiles(JsonNode r, int featurized, int reused, int leftOut, String tag) {
    assertEquals(featurized, r.get("files_featurized").asInt(), tag + " featurized");
    assertEquals(reused, r.get("files_reused").asInt(), tag + " reused");
    assertEquals(leftOut, r.get("files_left_out").asInt(), tag + " left out");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {"trak-sampled", "trak-batched", "if-projected", "tracin", "per-example-trak"})
  void aGrowingTableGivesTheFullRunsScoresFeaturizingOnlyNewFiles(String method)
      throws IOException {
    Path table = tmp.resolve(method + "-table");
    Path store = tmp.resolve(method + "-store");
    // The sampled kernel samples a shrinking fraction once the table holds more than its 10,000
    // examples: days large enough that it does, and that losing two days needs a new sample.
    int scale = method.equals("trak-sampled") ? 200 : 1;
    writeDay(table, 1, 60 * scale);
    writeDay(table, 2, 50 * scale);
    writeDay(table, 3, 40 * scale);
    // The pinned model, trained once on all three days.
    Path trained = tmp.resolve(method + "-model");
    assertEquals(
        0, Main.execute(EndToEndTest.args("run", sets(method, table, trained, null, null))));
    String model = trained.resolve("model").toString();
    Path parked = tmp.resolve(method + "-parked");
    Files.createDirectories(parked);
    Files.move(table.resolve("day=3"), parked.resolve("day=3"));
    boolean all = method.equals("trak-sampled");
    if (all) {
      // The first run over one file; the other methods start at two (to keep the suite short).
      Files.move(table.resolve("day=2"), parked.resolve("day=2"));
      JsonNode first = compare(method, table, model, store, "day1");
      assertFiles(first, 1, 0, 0, "day 1");
      assertFalse(first.has("started_over"));
      Files.move(parked.resolve("day=2"), table.resolve("day=2"));
    }
    assertFiles(compare(method, table, model, store, "day2"), all ? 1 : 2, all ? 1 : 0, 0, "day 2");
    Files.move(parked.resolve("day=3"), table.resolve("day=3"));
    JsonNode third = compare(method, table, model, store, "day3");
    assertFiles(third, 1, 2, 0, "day 3");
    if (all) {
      assertTrue(third.get("sampled_kernel").asText().startsWith("from the files' stored"));
    }
    Files.move(table.resolve("day=2"), parked.resolve("day=2"));
    assertFiles(compare(method, table, model, store, "lost-day2"), 0, 2, 1, "day 2 lost");
    if (all) {
      // Day 3 alone: its stored sample (twice the fraction of 30,000 rows) is too small for 8,000.
      Files.move(table.resolve("day=1"), parked.resolve("day=1"));
      JsonNode alone = compare(method, table, model, store, "day3-alone");
      assertFiles(alone, 0, 1, 2, "day 3 alone");
      assertTrue(alone.get("sampled_kernel").asText().startsWith("featurized again"));
      Files.move(parked.resolve("day=1"), table.resolve("day=1"));
    }

    if (method.equals("tracin")) {
      // Day 1 rewritten in place with other rows: a new file to featurize, the old version left
      // out.
      writeDay(table, 1, 45);
      assertFiles(
          compare(method, table, model, store, "day1-rewritten"), 1, 1, 2, "day 1 rewritten");
    }

    if (all) {
      // Another model: nothing stored applies, and the run says why it starts over.
      Path other = tmp.resolve(method + "-model2");
      List<String> s = sets(method, table, other, null, null);
      s.add("train.seed=7");
      assertEquals(0, Main.execute(EndToEndTest.args("run", s)));
      JsonNode r = compare(method, table, other.resolve("model").toString(), store, "new-model");
      assertFiles(r, 2, 0, 0, "new model");
      assertTrue(r.get("started_over").asText().contains("another model"));
    }
  }

  @org.junit.jupiter.api.Test
  void groupsThatMoveAsTheTableGrowsAreRefusedBeforeAnyWork() {
    Path table = tmp.resolve("refused-table");
    List<String> s = sets("tracin", table, tmp.resolve("refused"), null, "/nonexistent/store");
    s.add("group.method=random");
    assertEquals(2, Main.execute(EndToEndTest.args("run", s)));
    assertFalse(Files.exists(tmp.resolve("refused")));
  }
}
