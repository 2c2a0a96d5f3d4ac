package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.cli.Main;
import dev.ggda.model.ModelStore;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job through its CLI on a Fashion-MNIST slice (a demo-style run): exit codes, every
 * output table and its invariants, run.json, the saved model, refusal to overwrite, and the same
 * scores from a separate local[1] and local[3] JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {
  static final String FASHION = "/usr/share/datasets/fashion-mnist";
  @TempDir static Path tmp;
  Path out;

  static List<String> sets(String outDir, int trainRows, int targets) {
    return List.of(
        "data.train.path=" + FASHION + "/train-images-idx3-ubyte.gz",
        "data.train.format=idx",
        "data.train.limit=" + trainRows,
        "data.targets.path=" + FASHION + "/t10k-images-idx3-ubyte.gz",
        "data.targets.format=idx",
        "data.targets.limit=" + targets,
        "data.classes=10",
        "model.kind=mlp",
        "model.hidden=[16]",
        "train.epochs=2",
        "train.batch_size=64",
        "train.checkpoints=2",
        "group.method=kmeans-grad",
        "group.size=32",
        "attribute.method=trak",
        "attribute.projection.dim=64",
        "attribute.kernel=batched",
        "output.path=" + outDir);
  }

  static String[] args(String command, List<String> sets) {
    List<String> a = new ArrayList<>(List.of(command));
    for (String s : sets) {
      a.add("--set");
      a.add(s);
    }
    return a.toArray(new String[0]);
  }

  @BeforeAll
  void runOnce() {
    assumeTrue(
        new File(FASHION + "/train-images-idx3-ubyte.gz").exists(),
        "apt-get install dataset-fashion-mnist");
    SparkTestSession.get();
    out = tmp.resolve("run");
    assertEquals(0, Main.execute(args("run", sets(out.toString(), 2000, 12))));
  }

  @Test
  void writesEveryTableConsistently() throws Exception {
    SparkSession spark = SparkTestSession.get();
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    Dataset<Row> groups = spark.read().parquet(out.resolve("groups").toString());
    assertEquals(2000, groups.count());
    assertEquals(2000, groups.select("example_id").distinct().count());
    long groupCount = groups.select("group_id").distinct().count();
    assertTrue(groupCount > 20 && groupCount < 120, "groups: " + groupCount);
    Dataset<Row> stats = spark.read().parquet(out.resolve("group_stats").toString());
    assertEquals(2000L, stats.agg(functions.sum("size")).first().getLong(0));
    Dataset<Row> scores = spark.read().parquet(out.resolve("scores").toString());
    assertEquals(12 * groupCount, scores.count());
    // group_values.value is the sum of the group's scores over all targets.
    Map<Long, Double> summed = new HashMap<>();
    for (Row r : scores.groupBy("group_id").agg(functions.sum("score")).collectAsList()) {
      summed.put(r.getLong(0), r.getDouble(1));
    }
    List<Row> values =
        spark
            .read()
            .parquet(out.resolve("group_values").toString())
            .orderBy("rank")
            .collectAsList();
    assertEquals(groupCount, values.size());
    for (int i = 0; i < values.size(); i++) {
      Row v = values.get(i);
      assertEquals(
          summed.get(v.getLong(0)), v.getDouble(2), 1e-9 * Math.max(1, Math.abs(v.getDouble(2))));
      assertEquals(v.getDouble(2) / v.getLong(1), v.getDouble(3), 1e-12);
      assertEquals(i + 1, v.getLong(4));
      if (i > 0) {
        assertTrue(values.get(i - 1).getDouble(2) >= v.getDouble(2), "ranked by value");
      }
    }
    assertEquals(
        groupCount, spark.read().parquet(out.resolve("self_influence").toString()).count());
    JsonNode run = new ObjectMapper().readTree(out.resolve("run.json").toFile());
    assertEquals(2000, run.at("/counts/train_rows").asInt());
    assertEquals(groupCount, run.at("/counts/groups").asLong());
    assertTrue(run.at("/metrics/targets/accuracy").asDouble() > 0.5, run.at("/metrics").toString());
    for (String stage :
        List.of("load", "train", "group", "featurize_and_solve", "score_and_write")) {
      assertTrue(run.at("/stage_seconds/" + stage).isNumber(), "stage " + stage + " timed");
    }
    TrainedModel model =
        ModelStore.load(
            out.resolve("model").toString(), spark.sparkContext().hadoopConfiguration());
    assertEquals(2, model.members().get(0).size());
    assertEquals(784, model.architecture().inputDim());
  }

  @Test
  void refusesToOverwriteACompletedRunAndLeavesItIntact() throws Exception {
    long before = Files.getLastModifiedTime(out.resolve("_SUCCESS")).toMillis();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream old = System.err;
    System.setErr(new PrintStream(err, true));
    int code;
    try {
      code = Main.execute(args("run", sets(out.toString(), 2000, 12)));
    } finally {
      System.setErr(old);
    }
    assertEquals(2, code);
    assertTrue(err.toString().contains("output.path"), err.toString());
    assertEquals(before, Files.getLastModifiedTime(out.resolve("_SUCCESS")).toMillis());
    try (var siblings = Files.list(tmp)) {
      assertFalse(
          siblings.anyMatch(p -> p.getFileName().toString().contains("staging")),
          "staging folder removed");
    }
  }

  @Test
  void scoresAreTheSameInSeparateLocal1AndLocal3Jvms() throws Exception {
    Path a = tmp.resolve("local1");
    Path b = tmp.resolve("local3");
    runInChildJvm("local[1]", a);
    runInChildJvm("local[3]", b);
    SparkSession spark = SparkTestSession.get();
    Map<String, Double> sa = scores(spark, a);
    Map<String, Double> sb = scores(spark, b);
    assertEquals(sa.keySet(), sb.keySet());
    assertFalse(sa.isEmpty());
    for (var e : sa.entrySet()) {
      double x = e.getValue();
      double y = sb.get(e.getKey());
      assertEquals(x, y, 1e-9 * Math.max(1e-6, Math.abs(x)), e.getKey());
    }
  }

  private static Map<String, Double> scores(SparkSession spark, Path dir) {
    Map<String, Double> m = new HashMap<>();
    for (Row r : spark.read().parquet(dir.resolve("scores").toString()).collectAsList()) {
      m.put(r.getLong(0) + "/" + r.getLong(1), r.getDouble(2));
    }
    return m;
  }

  private static void runInChildJvm(String master, Path outDir) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-")
          || arg.startsWith("-XX:+IgnoreUnrecognized")
          || arg.startsWith("-Dio.netty")
          || arg.startsWith("-Djdk.reflect")) {
        cmd.add(arg);
      }
    }
    cmd.add("-Xmx2g");
    cmd.add("-Dspark.master=" + master);
    cmd.add("-Dspark.ui.enabled=false");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.ggda.cli.Main");
    cmd.addAll(List.of(args("run", sets(outDir.toString(), 1000, 6))));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().put("OMP_NUM_THREADS", "1");
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes());
    int code = p.waitFor();
    assertEquals(
        0,
        code,
        "child JVM (" + master + ") failed:\n" + log.substring(Math.max(0, log.length() - 4000)));
  }
}
