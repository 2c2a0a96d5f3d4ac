package dev.ggda.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A small run folder written the way a run writes it (Parquet tables, run.json) plus the optional
 * evaluation (as CSV), prune and noise tables, with the raw values kept in Java for the tests to
 * check the report against. 6 groups of sizes 3..8 (33 examples of 4 x 4 "images", 3 classes), 4
 * targets, scores sin(7t + 3g).
 */
final class ReportFixture {
  static final int GROUPS = 6;
  static final int TARGETS = 4;
  static final int SIDE = 4;
  static final int CLASSES = 3;

  final long[] exampleGroup;
  final int[] exampleLabel;
  final float[][] features;
  final double[][] score = new double[TARGETS][GROUPS];
  final LoadedData train;

  private ReportFixture(SparkSession spark, Path dir) {
    this.dir = dir;
    int n = 0;
    for (int g = 0; g < GROUPS; g++) {
      n += g + 3;
    }
    exampleGroup = new long[n];
    exampleLabel = new int[n];
    features = new float[n][SIDE * SIDE];
    int e = 0;
    for (int g = 0; g < GROUPS; g++) {
      for (int i = 0; i < g + 3; i++, e++) {
        exampleGroup[e] = g;
        exampleLabel[e] = (e * 5 + g) % CLASSES;
        for (int p = 0; p < SIDE * SIDE; p++) {
          features[e][p] = ((e * 7 + p * 3) % 11) / 10f;
        }
      }
    }
    for (int t = 0; t < TARGETS; t++) {
      for (int g = 0; g < GROUPS; g++) {
        score[t][g] = Math.sin(7 * t + 3 * g);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create((long) i, exampleLabel[i], features[i]));
    }
    train =
        new LoadedData(spark.createDataFrame(rows, Columns.schema(false)), SIDE * SIDE, CLASSES, n);
  }

  long size(int g) {
    return g + 3;
  }

  long[] labelCounts(int g) {
    long[] c = new long[CLASSES];
    for (int e = 0; e < exampleGroup.length; e++) {
      if (exampleGroup[e] == g) {
        c[exampleLabel[e]]++;
      }
    }
    return c;
  }

  /** A string that breaks out of a script element, an attribute and a tag if it is not escaped. */
  static final String HOSTILE =
      "</script><script>document.body.dataset.pwned='1'</script>\"'><img src=x onerror=alert(1)>";

  private static ReportFixture shared;

  /** Where {@link #shared} wrote its run: a folder whose path holds {@link #HOSTILE}. */
  final Path dir;

  /**
   * The fixture every report test reads, written once per JVM (writing it costs several seconds of
   * Spark jobs) under a temporary folder removed when the JVM exits. HOSTILE is in its path, its
   * config values, a stage name and a method name.
   */
  static synchronized ReportFixture shared(SparkSession spark) throws IOException {
    if (shared == null) {
      Path root = Files.createTempDirectory("ggda-report-test");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
      shared = write(spark, root.resolve("run " + HOSTILE), HOSTILE);
    }
    return shared;
  }

  private static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a leftover temp folder is harmless.
    }
  }

  /**
   * Writes the run folder; {@code hostile} goes into config values, a stage name and method names.
   */
  static ReportFixture write(SparkSession spark, Path dir, String hostile) throws IOException {
    ReportFixture f = new ReportFixture(spark, dir);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("run.json"), f.runJson(hostile));

    List<Row> groups = new ArrayList<>();
    for (int e = 0; e < f.exampleGroup.length; e++) {
      groups.add(RowFactory.create((long) e, f.exampleGroup[e]));
    }
    parquet(spark, groups, "example_id long, group_id long", dir.resolve("groups"));

    List<Row> stats = new ArrayList<>();
    for (int g = 0; g < GROUPS; g++) {
      long[] c = f.labelCounts(g);
      int majority = 0;
      for (int k = 1; k < CLASSES; k++) {
        majority = c[k] > c[majority] ? k : majority;
      }
      stats.add(RowFactory.create((long) g, f.size(g), boxed(c), majority, 0.5 + g));
    }
    parquet(
        spark,
        stats,
        "group_id long, size long, label_counts array<bigint>, majority_label int, mean_loss double",
        dir.resolve("group_stats"));

    List<Row> scores = new ArrayList<>();
    double[] value = new double[GROUPS];
    for (int t = 0; t < TARGETS; t++) {
      for (int g = 0; g < GROUPS; g++) {
        scores.add(RowFactory.create((long) t, (long) g, f.score[t][g]));
        value[g] += f.score[t][g];
      }
    }
    parquet(spark, scores, "target_id long, group_id long, score double", dir.resolve("scores"));

    List<Row> values = new ArrayList<>();
    for (int g = 0; g < GROUPS; g++) {
      long rank = 1;
      for (int h = 0; h < GROUPS; h++) {
        rank += value[h] > value[g] ? 1 : 0;
      }
      values.add(RowFactory.create((long) g, f.size(g), value[g], value[g] / f.size(g), rank));
    }
    parquet(
        spark,
        values,
        "group_id long, size long, value double, value_per_example double, rank long",
        dir.resolve("group_values"));

    // The optional tables of other commands; the efficiency table as CSV to exercise format
    // detection.
    List<Row> eff = new ArrayList<>();
    for (String method : List.of("trak", hostile)) {
      for (long size : new long[] {1, 16, 64}) {
        eff.add(
            RowFactory.create(
                method,
                "kmeans-grad",
                size,
                6000 / size,
                100.0 / size,
                size == 1 ? 1.0 : Math.sqrt(size),
                0.5 - 0.01 * size,
                size == 16 ? Double.NaN : 0.6 - 0.002 * size,
                Double.NaN));
      }
    }
    Dataset<Row> effTable =
        spark.createDataFrame(
            eff,
            StructType.fromDDL(
                "method string, grouping string, group_size long,"
                    + " groups long, attribution_seconds double, speedup double, lds double, group_lds double, removal_effect double"));
    effTable
        .coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .option("header", "true")
        .csv(dir.resolve(ReportWriter.EFFICIENCY_TABLE).toString());

    List<Row> prune = new ArrayList<>();
    for (String s : List.of("attribution", "random", "full")) {
      for (double fr : new double[] {0.0, 0.1, 0.2, 0.3}) {
        prune.add(
            RowFactory.create(
                fr, s, 0.8 + (s.equals("attribution") ? 0.1 : -0.1) * fr, 0.01 + fr / 10, 3L));
      }
    }
    parquet(
        spark,
        prune,
        "fraction double, strategy string, accuracy_mean double, accuracy_std double, seeds long",
        dir.resolve(ReportWriter.PRUNE_TABLE));

    List<Row> curve = new ArrayList<>();
    for (String m : List.of("self-influence", "loss")) {
      for (int i = 0; i <= 10; i++) {
        double x = i / 10.0;
        curve.add(RowFactory.create(m, x, m.equals("loss") ? x : Math.sqrt(x)));
      }
    }
    parquet(
        spark,
        curve,
        "method string, inspected_fraction double, recall double",
        dir.resolve(ReportWriter.NOISE_CURVE_TABLE));
    parquet(
        spark,
        List.of(
            RowFactory.create("self-influence", 0.66, 0.45), RowFactory.create("loss", 0.5, 0.2)),
        "method string, auc double, recall_at_20 double",
        dir.resolve(ReportWriter.NOISE_SUMMARY_TABLE));
    return f;
  }

  private String runJson(String hostile) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    root.put("command", "run");
    root.put("started", "2026-11-28T10:00:00Z");
    root.put("finished", "2026-11-28T10:01:00Z");
    ObjectNode versions = root.putObject("versions");
    versions.put("ggda", "0.1.0-test");
    versions.put("spark", "4.2.0");
    ObjectNode config = root.putObject("config");
    ObjectNode trainSrc = config.putObject("data").putObject("train");
    trainSrc.put("path", hostile);
    trainSrc.put("format", "idx");
    config.putObject("group").put("method", hostile);
    config.putObject("output").put("format", "parquet");
    ObjectNode counts = root.putObject("counts");
    counts.put("train_rows", exampleGroup.length);
    counts.put("groups", GROUPS);
    ObjectNode stages = root.putObject("stage_seconds");
    stages.put("load", 1.5);
    stages.put("train", 12.25);
    stages.put(hostile, 0.75);
    root.putObject("metrics").putObject("train").put("accuracy", 0.875);
    return root.toPrettyString();
  }

  private static Long[] boxed(long[] v) {
    Long[] b = new Long[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = v[i];
    }
    return b;
  }

  private static void parquet(SparkSession spark, List<Row> rows, String ddl, Path where) {
    spark
        .createDataFrame(rows, StructType.fromDDL(ddl))
        .coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(where.toString());
  }
}
