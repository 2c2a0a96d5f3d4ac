package dev.ggda.harness;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import dev.ggda.InputException;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.config.DataConfig;
import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupMethod;
import dev.ggda.config.IncrementalConfig;
import dev.ggda.data.Columns;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.io.Versions;
import dev.ggda.model.TrainedModel;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.spark.Sessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * `ggda benchmark --incremental R`: a table that grows R times by {@code --growth} of its first
 * size, scored with one pinned model. The synthetic training set is written as Parquet, one folder
 * per day; day 0 holds n rows, every later day growth x n rows in sources (the group column) of its
 * own, like a new crawl shard or vendor drop. After each day is added, one run with
 * incremental.store and one full run score the same table; the benchmark prints and writes
 * (output.path/incremental.json) both attribution times (featurize and solve, and score), both
 * grouping times, the files the incremental run featurized, and how far its scores are from the
 * full run's. Groups are the source column, or, with a k-means group.method, clusters: the
 * incremental run keeps its first centres and the full run clusters the whole table again, so their
 * groups and scores differ by design and are not compared.
 */
public final class IncrementalBenchmark {
  private static final String DAY = "day";
  private static final String SOURCE = "source";

  private IncrementalBenchmark() {}

  public static void run(GgdaConfig config, int grows, double growth) {
    DataSource train = config.data().train();
    if (train.format() != DataFormat.SYNTHETIC || train.synthetic() == null) {
      throw new InputException(
          "--incremental: the benchmark writes its growing table from the synthetic training set;"
              + " set data.train.format: synthetic (see conf/experiments/incremental-synthetic.yaml)");
    }
    Console console = Console.progress();
    SparkSession spark = Sessions.getOrCreate("ggda benchmark --incremental");
    String root = config.output().path();
    long n0 = train.synthetic().n();
    long total = Math.round(n0 * (1 + grows * growth));
    String all = root + "/table-all";
    String table = root + "/table";
    String store = root + "/store";
    writeDays(spark, config, total, n0, growth, grows, all);
    reset(spark, table, store);
    GgdaConfig onTable = readingTable(config, table);
    move(spark, all, table, 0);
    TrainedModel model = trainOnce(spark, onTable, console);
    List<Map<String, Object>> results = new ArrayList<>();
    for (int day = 0; day <= grows; day++) {
      if (day > 0) {
        move(spark, all, table, day);
      }
      Measured inc =
          measure(spark, onTable.withIncremental(new IncrementalConfig(store)), model, console);
      Measured full = measure(spark, onTable, model, console);
      Map<String, Object> r = row(day, inc, full);
      results.add(r);
      console.info(
          "benchmark --incremental: day %d: %,d rows, %s file(s) featurized; grouping %.1f s and"
              + " attribution %.1f s incremental vs %.1f s and %.1f s full (%.1f%% of attribution);"
              + " %s",
          day,
          full.rows,
          inc.report.get("files_featurized"),
          inc.groupSeconds,
          inc.seconds(),
          full.groupSeconds,
          full.seconds(),
          100 * inc.seconds() / full.seconds(),
          difference(r));
    }
    print(results);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("versions", Versions.all());
    out.put("method", config.attribute().method().toString());
    out.put("kernel", config.attribute().kernel().toString());
    out.put("projection_dim", config.attribute().projection().dim());
    out.put("group_size", config.group().size());
    out.put("first_rows", n0);
    out.put("growth", growth);
    out.put("cores", Runtime.getRuntime().availableProcessors());
    out.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto"));
    out.put("results", results);
    console.info(
        "benchmark --incremental: wrote %s", Benchmark.writeJson(config, "incremental.json", out));
  }

  /**
   * The whole synthetic set as Parquet under {@code dir}/day=D: day by a hash of the example id,
   * sources of about group.size rows that belong to one day each.
   */
  private static void writeDays(
      SparkSession spark,
      GgdaConfig config,
      long total,
      long n0,
      double growth,
      int grows,
      String dir) {
    LoadedData data =
        DataLoader.load(
            spark,
            ScalingBenchmark.withTrainRows(config, total).data().train(),
            config.data().classes(),
            "train");
    Column u =
        pmod(xxhash64(col(Columns.EXAMPLE_ID), lit(17L)), lit(1L << 40))
            .cast("double")
            .divide((double) (1L << 40));
    double first = (double) n0 / total;
    double step = growth * n0 / total;
    Column day =
        when(u.lt(first), lit(0))
            .otherwise(
                least(lit(grows), floor(u.minus(first).divide(step)).cast("int").plus(lit(1))));
    long perDay = Math.max(1, Math.round(growth * n0 / config.group().size()));
    long perFirst = Math.max(1, n0 / config.group().size());
    Column bucket =
        pmod(
            xxhash64(col(Columns.EXAMPLE_ID), lit(29L)),
            when(col(DAY).equalTo(0), lit(perFirst)).otherwise(lit(perDay)));
    Dataset<Row> rows =
        data.examples()
            .withColumn(DAY, day)
            .withColumn(
                SOURCE, concat(lit("d"), col(DAY).cast("string"), lit("-s"), bucket.cast("string")))
            .select(col(Columns.LABEL), col(Columns.FEATURES), col(SOURCE), col(DAY));
    rows.repartition(col(DAY)).write().mode("overwrite").partitionBy(DAY).parquet(dir);
  }

  private static void reset(SparkSession spark, String table, String store) {
    try {
      FileSystem fs = new Path(table).getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.delete(new Path(table), true);
      fs.delete(new Path(store), true);
      fs.mkdirs(new Path(table));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Adds day {@code day}'s folder to the table (a rename: the files keep their identity). */
  private static void move(SparkSession spark, String all, String table, int day) {
    try {
      Path from = new Path(all, DAY + "=" + day);
      FileSystem fs = from.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(from) && !fs.rename(from, new Path(table, DAY + "=" + day))) {
        throw new IOException("cannot move " + from + " into " + table);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static GgdaConfig readingTable(GgdaConfig config, String table) {
    DataSource t = config.data().train();
    DataSource parquet =
        new DataSource(
            table,
            DataFormat.PARQUET,
            null,
            Columns.LABEL,
            Columns.FEATURES,
            SOURCE,
            null,
            null,
            null);
    return config
        .withData(new DataConfig(parquet, config.data().targets(), config.data().classes()))
        .withGroup(
            config.group().method().kmeans()
                ? config.group()
                : config.group().with(GroupMethod.COLUMN, config.group().size(), null));
  }

  private static TrainedModel trainOnce(SparkSession spark, GgdaConfig config, Console console) {
    try (Pipeline p = new Pipeline(spark, config, "benchmark-incremental", console)) {
      p.load();
      p.obtainModel();
      return p.model();
    }
  }

  /** One run's attribution time, its run.json "incremental", and its group values by group. */
  private record Measured(
      long rows,
      double groupSeconds,
      double featurizeSeconds,
      double scoreSeconds,
      Map<String, Object> report,
      Map<Long, Double> values,
      Map<String, Double> scores) {
    double seconds() {
      return featurizeSeconds + scoreSeconds;
    }
  }

  private static Measured measure(
      SparkSession spark, GgdaConfig config, TrainedModel model, Console console) {
    try (Pipeline p = new Pipeline(spark, config, "benchmark-incremental", console)) {
      p.load();
      p.useModel(model);
      p.obtainModel();
      long g0 = System.nanoTime();
      p.group(null);
      double group = (System.nanoTime() - g0) / 1e9;
      long t0 = System.nanoTime();
      ScoreStage.Scored s = p.score(null);
      double featurize = p.info().stageSeconds("featurize_and_solve");
      Map<String, Double> scores = new HashMap<>();
      for (Row r : s.scores.collectAsList()) {
        scores.put(
            r.getAs(Columns.TARGET_ID) + "/" + r.getAs(Columns.GROUP_ID), r.getAs(Columns.SCORE));
      }
      Map<Long, Double> values = new HashMap<>();
      for (Row r : s.groupValues.select(Columns.GROUP_ID, Columns.VALUE).collectAsList()) {
        values.put(r.getLong(0), r.getDouble(1));
      }
      double score = (System.nanoTime() - t0) / 1e9 - featurize;
      @SuppressWarnings("unchecked")
      Map<String, Object> report = (Map<String, Object>) p.info().get("incremental");
      return new Measured(p.trainData().count(), group, featurize, score, report, values, scores);
    }
  }

  private static Map<String, Object> row(int day, Measured inc, Measured full) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("day", day);
    r.put("rows", full.rows);
    r.put("files", inc.report.get("files"));
    r.put("files_featurized", inc.report.get("files_featurized"));
    r.put("rows_featurized", inc.report.get("rows_featurized"));
    r.put("incremental_featurize_seconds", inc.featurizeSeconds);
    r.put("incremental_score_seconds", inc.scoreSeconds);
    r.put("full_featurize_seconds", full.featurizeSeconds);
    r.put("full_score_seconds", full.scoreSeconds);
    r.put("incremental_share", inc.seconds() / full.seconds());
    r.put("incremental_group_seconds", inc.groupSeconds);
    r.put("full_group_seconds", full.groupSeconds);
    r.put(
        "incremental_share_with_grouping",
        (inc.groupSeconds + inc.seconds()) / (full.groupSeconds + full.seconds()));
    r.put("incremental_steps_seconds", inc.report.get("seconds"));
    r.put("sampled_kernel", inc.report.get("sampled_kernel"));
    if (inc.report.get("clustering") != null) {
      r.put("clustering", inc.report.get("clustering"));
      return r;
    }
    double scale = 0;
    double diff = 0;
    for (var e : full.values.entrySet()) {
      scale = Math.max(scale, Math.abs(e.getValue()));
      diff =
          Math.max(diff, Math.abs(e.getValue() - inc.values.getOrDefault(e.getKey(), Double.NaN)));
    }
    for (var e : full.scores.entrySet()) {
      Double other = inc.scores.get(e.getKey());
      if (other != null) {
        double s = Math.abs(e.getValue());
        scale = Math.max(scale, s);
        diff = Math.max(diff, Math.abs(e.getValue() - other));
      }
    }
    long shared = full.scores.keySet().stream().filter(inc.scores::containsKey).count();
    r.put("max_relative_difference", scale == 0 ? 0.0 : diff / scale);
    r.put("top_k_pairs", full.scores.size());
    r.put("top_k_pairs_shared", shared);
    return r;
  }

  private static String difference(Map<String, Object> r) {
    Object d = r.get("max_relative_difference");
    return d == null
        ? "scores not compared (the full run clusters again)"
        : String.format("scores differ by %.2e of the largest", (double) d);
  }

  private static void print(List<Map<String, Object>> results) {
    System.out.println();
    System.out.printf(
        "%4s %11s %6s %10s %9s %13s %9s %13s %8s %12s%n",
        "day",
        "rows",
        "files",
        "featurized",
        "inc grp s",
        "incremental s",
        "full grp s",
        "full s",
        "share",
        "max rel diff");
    for (Map<String, Object> r : results) {
      double inc =
          (double) r.get("incremental_featurize_seconds")
              + (double) r.get("incremental_score_seconds");
      double full = (double) r.get("full_featurize_seconds") + (double) r.get("full_score_seconds");
      Object d = r.get("max_relative_difference");
      System.out.printf(
          "%4d %,11d %6s %10s %9.1f %13.1f %9.1f %13.1f %7.1f%% %12s%n",
          (int) r.get("day"),
          (long) r.get("rows"),
          r.get("files"),
          r.get("files_featurized"),
          (double) r.get("incremental_group_seconds"),
          inc,
          (double) r.get("full_group_seconds"),
          full,
          100 * inc / full,
          d == null ? "-" : String.format("%.2e", (double) d));
    }
    System.out.println(
        "Attribution = featurize and solve (targets included) + score; grouping apart; the"
            + " incremental run of day 0 fills the store. Max rel diff: largest |incremental - full|"
            + " over group values and the top-k scores both runs kept, over the largest |full|.");
  }
}
