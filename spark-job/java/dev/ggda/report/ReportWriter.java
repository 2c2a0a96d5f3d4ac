package dev.ggda.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.InputException;
import dev.ggda.config.OutputFormat;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.report.ReportData.EfficiencyPoint;
import dev.ggda.report.ReportData.GroupScore;
import dev.ggda.report.ReportData.NoisePoint;
import dev.ggda.report.ReportData.NoiseSummary;
import dev.ggda.report.ReportData.PrunePoint;
import dev.ggda.report.ReportData.RankedGroup;
import dev.ggda.report.ReportData.TargetGroups;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code report.html} into a run's output folder from the tables the run (and later
 * commands: evaluate, prune, detect-noise) wrote there, read through the Hadoop FileSystem. Tables
 * may be Parquet or CSV; each is recognised by its part files. Optional sections are drawn when
 * their tables exist, with these columns (other commands write them):
 *
 * <ul>
 *   <li>{@code evaluation/efficiency_fidelity/}: method string, grouping string, group_size long,
 *       groups long, attribution_seconds double, speedup double, lds double, group_lds double,
 *       removal_effect double (NaN = not measured)
 *   <li>{@code prune/validation/}: fraction double, strategy string (attribution|random|full),
 *       accuracy_mean double, accuracy_std double, seeds long
 *   <li>{@code noise/curve/}: method string, inspected_fraction double, recall double; and {@code
 *       noise/summary/}: method string, auc double, recall_at_20 double
 * </ul>
 *
 * Member thumbnails are drawn for image data (see {@link Thumbnails}) when the caller passes the
 * loaded training data.
 */
public final class ReportWriter {
  public static final String FILE = "report.html";
  public static final String EFFICIENCY_TABLE = "evaluation/efficiency_fidelity";
  public static final String PRUNE_TABLE = "prune/validation";
  public static final String NOISE_CURVE_TABLE = "noise/curve";
  public static final String NOISE_SUMMARY_TABLE = "noise/summary";

  /**
   * Targets shown, groups per side, group-value rows per end, thumbnails per group, histogram bins.
   */
  static final int TARGETS = 3;

  static final int PER_SIDE = 5;
  static final int VALUES = 10;
  static final int THUMBS = 4;
  static final int BINS = 40;

  private static final Logger LOG = LoggerFactory.getLogger(ReportWriter.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReportWriter() {}

  /**
   * The hook every run calls before committing: writes report.html into the run's staging folder. A
   * report that cannot be written must not lose the run, so failures are logged, not thrown.
   *
   * @return whether the report was written
   */
  public static boolean writeOrWarn(SparkSession spark, RunOutput out, LoadedData trainOrNull) {
    String folder = new Path(out.path(FILE)).getParent().toString();
    try {
      write(spark, folder, out.finalPath(), trainOrNull);
      return true;
    } catch (RuntimeException | LinkageError e) {
      LOG.warn(
          "report.html was not written for {} (the run's tables are complete): {}",
          out.finalPath(),
          e.toString(),
          e);
      return false;
    }
  }

  /**
   * Writes {@code folder/report.html} (replacing one that is there): for commands that add tables
   * to a completed run's folder and redraw its report.
   *
   * @param trainOrNull the training data, for member thumbnails of image data; null draws none
   * @return the report's path
   * @throws InputException when the folder holds no run.json
   */
  public static String write(SparkSession spark, String folder, LoadedData trainOrNull) {
    return write(spark, folder, null, trainOrNull);
  }

  private static String write(
      SparkSession spark, String folder, String displayPath, LoadedData trainOrNull) {
    Path dir = new Path(folder);
    FileSystem fs = fileSystem(spark, dir);
    Path qualified = fs.makeQualified(dir);
    String html =
        ReportPage.render(
            read(
                spark,
                fs,
                qualified,
                displayPath == null ? qualified.toString() : displayPath,
                trainOrNull));
    Path target = new Path(qualified, FILE);
    try (OutputStream o = fs.create(target, true)) {
      o.write(html.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
    return target.toString();
  }

  /** Everything the page shows, read from the folder's run.json and tables. */
  static ReportData read(
      SparkSession spark, FileSystem fs, Path dir, String displayPath, LoadedData train) {
    String runJson = readRunJson(fs, dir);
    JsonNode config;
    try {
      config = JSON.readTree(runJson).path("config");
    } catch (IOException e) {
      throw new InputException(
          dir + "/run.json is not JSON; point the report at a ggda run's output.path");
    }
    OutputFormat defaultFormat =
        "csv".equalsIgnoreCase(config.path("output").path("format").asText())
            ? OutputFormat.CSV
            : OutputFormat.PARQUET;
    Tabler tables = new Tabler(spark, fs, dir, defaultFormat);
    ReportData data = ReportData.of(displayPath, RunJson.parse(runJson));

    Optional<Dataset<Row>> stats = tables.get("group_stats");
    if (stats.isPresent()) {
      HistogramAndCount h = histogram(stats.get(), Columns.SIZE, true);
      data = data.withGroups(h.histogram, h.rows);
    }
    Optional<Dataset<Row>> scores = tables.get("scores");
    if (scores.isPresent()) {
      HistogramAndCount h = histogram(scores.get(), Columns.SCORE, false);
      boolean images =
          train != null
              && Thumbnails.isImage(
                  config.path("data").path("train").path("format").asText(), train.dim());
      Optional<Dataset<Row>> groups = images ? tables.get("groups") : Optional.empty();
      boolean topK = config.path("output").path("top_k").isNumber();
      List<TargetGroups> top =
          topGroups(scores.get(), stats.orElse(null), groups.orElse(null), train, !topK);
      data = data.withScores(h.histogram, h.rows, top);
    }
    Optional<Dataset<Row>> values = tables.get("group_values");
    if (values.isPresent()) {
      data =
          data.withGroupValues(
              groupValues(values.get(), col(Columns.RANK).asc()),
              groupValues(values.get(), col(Columns.RANK).desc()));
    }
    data =
        data.withEfficiency(
            optional(
                tables,
                EFFICIENCY_TABLE,
                t ->
                    collect(
                        t,
                        r ->
                            new EfficiencyPoint(
                                r.getString(0),
                                r.getString(1),
                                r.getLong(2),
                                r.getLong(3),
                                r.getDouble(4),
                                r.getDouble(5),
                                r.getDouble(6),
                                r.getDouble(7),
                                r.getDouble(8)),
                        "string method",
                        "string grouping",
                        "long group_size",
                        "long groups",
                        "double attribution_seconds",
                        "double speedup",
                        "double lds",
                        "double group_lds",
                        "double removal_effect")));
    data =
        data.withPrune(
            optional(
                tables,
                PRUNE_TABLE,
                t ->
                    collect(
                        t,
                        r ->
                            new PrunePoint(
                                r.getDouble(0),
                                r.getString(1),
                                r.getDouble(2),
                                r.getDouble(3),
                                r.getLong(4)),
                        "double fraction",
                        "string strategy",
                        "double accuracy_mean",
                        "double accuracy_std",
                        "long seeds")));
    data =
        data.withNoise(
            optional(
                tables,
                NOISE_CURVE_TABLE,
                t ->
                    collect(
                        t,
                        r -> new NoisePoint(r.getString(0), r.getDouble(1), r.getDouble(2)),
                        "string method",
                        "double inspected_fraction",
                        "double recall")),
            optional(
                tables,
                NOISE_SUMMARY_TABLE,
                t ->
                    collect(
                        t,
                        r -> new NoiseSummary(r.getString(0), r.getDouble(1), r.getDouble(2)),
                        "string method",
                        "double auc",
                        "double recall_at_20")));
    return data;
  }

  private static String readRunJson(FileSystem fs, Path dir) {
    Path p = new Path(dir, "run.json");
    try (InputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.FileNotFoundException e) {
      throw new InputException(
          dir + " has no run.json; point the report at the output.path of a ggda run");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  // ---- histograms

  record HistogramAndCount(Histogram histogram, long rows) {}

  /**
   * Exact histogram of a column's finite values in two passes: range and row count, then bin
   * counts.
   */
  static HistogramAndCount histogram(Dataset<Row> table, String column, boolean integral) {
    Column x = col(column).cast("double");
    // NaN sorts above every double in Spark, so this keeps the finite values only.
    Column finite = when(x.between(-Double.MAX_VALUE, Double.MAX_VALUE), x);
    Row range = table.agg(count(lit(1)), min(finite), max(finite)).first();
    long rows = range.getLong(0);
    if (range.isNullAt(1)) {
      return new HistogramAndCount(new Histogram(0, 1, new long[0], false), rows);
    }
    Histogram.Layout l = Histogram.layout(range.getDouble(1), range.getDouble(2), integral, BINS);
    Column bin =
        greatest(
            lit(0L),
            least(lit((long) l.bins() - 1), floor(finite.minus(l.lo()).divide(l.width()))));
    long[] counts = new long[l.bins()];
    for (Row r :
        table
            .select(bin.as("bin"))
            .where(col("bin").isNotNull())
            .groupBy("bin")
            .count()
            .collectAsList()) {
      counts[(int) r.getLong(0)] = r.getLong(1);
    }
    return new HistogramAndCount(new Histogram(l.lo(), l.width(), counts, l.integerBins()), rows);
  }

  // ---- top groups per target

  private static List<TargetGroups> topGroups(
      Dataset<Row> scores,
      Dataset<Row> stats,
      Dataset<Row> groups,
      LoadedData train,
      boolean allPairs) {
    List<Long> targets =
        scores
            .select(col(Columns.TARGET_ID).cast("long"))
            .distinct()
            .orderBy(Columns.TARGET_ID)
            .limit(TARGETS)
            .collectAsList()
            .stream()
            .map(r -> r.getLong(0))
            .toList();
    if (targets.isEmpty()) {
      return List.of();
    }
    WindowSpec byTarget = Window.partitionBy(Columns.TARGET_ID);
    Dataset<Row> ranked =
        scores
            .select(
                col(Columns.TARGET_ID).cast("long").as(Columns.TARGET_ID),
                col(Columns.GROUP_ID).cast("long").as(Columns.GROUP_ID),
                col(Columns.SCORE).cast("double").as(Columns.SCORE))
            .where(col(Columns.TARGET_ID).isin(targets.toArray()))
            .withColumn(
                "pro",
                row_number()
                    .over(byTarget.orderBy(col(Columns.SCORE).desc(), col(Columns.GROUP_ID))))
            .withColumn(
                "con",
                row_number()
                    .over(byTarget.orderBy(col(Columns.SCORE).asc(), col(Columns.GROUP_ID))))
            .where(col("pro").leq(PER_SIDE).or(col("con").leq(allPairs ? PER_SIDE : 0)));
    boolean labels =
        stats != null
            && Arrays.asList(stats.columns()).contains(Columns.LABEL_COUNTS)
            && stats.schema().apply(Columns.LABEL_COUNTS).dataType()
                instanceof org.apache.spark.sql.types.ArrayType;
    boolean majority =
        stats != null && Arrays.asList(stats.columns()).contains(Columns.MAJORITY_LABEL);
    if (stats != null) {
      ranked =
          ranked.join(
              stats.select(
                  col(Columns.GROUP_ID).cast("long").as(Columns.GROUP_ID),
                  col(Columns.SIZE).cast("long").as(Columns.SIZE),
                  labels
                      ? col(Columns.LABEL_COUNTS)
                      : lit(null).cast("array<bigint>").as(Columns.LABEL_COUNTS),
                  majority
                      ? col(Columns.MAJORITY_LABEL).cast("int").as(Columns.MAJORITY_LABEL)
                      : lit(null).cast("int").as(Columns.MAJORITY_LABEL),
                  groupKey(stats)),
              new String[] {Columns.GROUP_ID},
              "left");
    } else {
      ranked =
          ranked
              .withColumn(Columns.SIZE, lit(null).cast("long"))
              .withColumn(Columns.LABEL_COUNTS, lit(null).cast("array<bigint>"))
              .withColumn(Columns.MAJORITY_LABEL, lit(null).cast("int"))
              .withColumn(Columns.GROUP_KEY, lit(null).cast("string"));
    }
    List<Row> rows =
        ranked
            .select(
                Columns.TARGET_ID,
                Columns.GROUP_ID,
                Columns.SCORE,
                "pro",
                "con",
                Columns.SIZE,
                Columns.LABEL_COUNTS,
                Columns.MAJORITY_LABEL,
                Columns.GROUP_KEY)
            .collectAsList();
    Set<Long> shown = new HashSet<>();
    rows.forEach(r -> shown.add(r.getLong(1)));
    Map<Long, List<String>> thumbs = groups == null ? Map.of() : thumbnails(groups, train, shown);

    List<TargetGroups> out = new ArrayList<>();
    for (long t : targets) {
      GroupScore[] pro = new GroupScore[PER_SIDE];
      GroupScore[] con = new GroupScore[PER_SIDE];
      for (Row r : rows) {
        if (r.getLong(0) != t) {
          continue;
        }
        GroupScore g =
            new GroupScore(
                r.getLong(1),
                r.getDouble(2),
                r.isNullAt(5) ? -1 : r.getLong(5),
                r.isNullAt(7) ? -1 : r.getInt(7),
                r.isNullAt(6) ? new long[0] : longs(r.getList(6)),
                thumbs.getOrDefault(r.getLong(1), List.of()),
                r.getString(8));
        int p = r.getInt(3);
        int c = r.getInt(4);
        if (p <= PER_SIDE) {
          pro[p - 1] = g;
        }
        if (c <= PER_SIDE) {
          con[c - 1] = g;
        }
      }
      out.add(new TargetGroups(t, compact(pro), allPairs ? compact(con) : List.of(), allPairs));
    }
    return out;
  }

  private static List<GroupScore> compact(GroupScore[] ranked) {
    return Arrays.stream(ranked).filter(g -> g != null).toList();
  }

  private static long[] longs(List<Object> values) {
    return values.stream().mapToLong(v -> v == null ? 0L : ((Number) v).longValue()).toArray();
  }

  /** PNGs of the {@link #THUMBS} lowest example ids of each shown group. */
  private static Map<Long, List<String>> thumbnails(
      Dataset<Row> groups, LoadedData train, Set<Long> groupIds) {
    Dataset<Row> members =
        groups
            .select(
                col(Columns.EXAMPLE_ID).cast("long").as(Columns.EXAMPLE_ID),
                col(Columns.GROUP_ID).cast("long").as(Columns.GROUP_ID))
            .where(col(Columns.GROUP_ID).isin(groupIds.toArray()))
            .withColumn(
                "n",
                row_number().over(Window.partitionBy(Columns.GROUP_ID).orderBy(Columns.EXAMPLE_ID)))
            .where(col("n").leq(THUMBS));
    List<Row> rows =
        members
            .join(train.examples().select(Columns.EXAMPLE_ID, Columns.FEATURES), Columns.EXAMPLE_ID)
            .orderBy(Columns.GROUP_ID, Columns.EXAMPLE_ID)
            .select(Columns.GROUP_ID, Columns.FEATURES)
            .collectAsList();
    Map<Long, List<String>> out = new HashMap<>();
    for (Row r : rows) {
      List<Object> f = r.getList(1);
      float[] pixels = new float[f.size()];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = ((Number) f.get(i)).floatValue();
      }
      out.computeIfAbsent(r.getLong(0), k -> new ArrayList<>()).add(Thumbnails.pngDataUri(pixels));
    }
    return out;
  }

  private static List<RankedGroup> groupValues(Dataset<Row> values, Column order) {
    return values
        .select(
            col(Columns.GROUP_ID).cast("long"),
            col(Columns.SIZE).cast("long"),
            col(Columns.VALUE).cast("double"),
            col(Columns.VALUE_PER_EXAMPLE).cast("double"),
            col(Columns.RANK).cast("long").as(Columns.RANK),
            groupKey(values))
        .orderBy(order)
        .limit(VALUES)
        .collectAsList()
        .stream()
        .map(
            r ->
                new RankedGroup(
                    r.getLong(0),
                    r.getLong(1),
                    r.getDouble(2),
                    r.getDouble(3),
                    r.getLong(4),
                    r.getString(5)))
        .toList();
  }

  /** The table's group_key as a string column, or a null one when the groups have no names. */
  private static Column groupKey(Dataset<Row> table) {
    return Groups.hasKey(table)
        ? col(Columns.GROUP_KEY).cast("string").as(Columns.GROUP_KEY)
        : lit(null).cast("string").as(Columns.GROUP_KEY);
  }

  // ---- optional tables

  /** An optional table's rows, or none (with a warning) when it is unreadable or lacks a column. */
  private static <T> List<T> optional(
      Tabler tables, String name, Function<Dataset<Row>, List<T>> rows) {
    Optional<Dataset<Row>> t = tables.get(name);
    if (t.isEmpty()) {
      return List.of();
    }
    try {
      return rows.apply(t.get());
    } catch (RuntimeException e) {
      LOG.warn("report: section {} left out: {}", name, e.getMessage());
      return List.of();
    }
  }

  /** Rows of the columns named "type name", cast to those types; nulls become NaN, "" or 0. */
  private static <T> List<T> collect(
      Dataset<Row> table, Function<Row, T> make, String... typedColumns) {
    Set<String> present = new HashSet<>(Arrays.asList(table.columns()));
    Column[] cols = new Column[typedColumns.length];
    for (int i = 0; i < typedColumns.length; i++) {
      String[] tn = typedColumns[i].split(" ");
      if (!present.contains(tn[1])) {
        throw new IllegalArgumentException(
            "column " + tn[1] + " is missing (has " + String.join(", ", table.columns()) + ")");
      }
      Column c = col(tn[1]).cast(tn[0]);
      Column fill =
          switch (tn[0]) {
            case "double" -> lit(Double.NaN);
            case "long" -> lit(0L);
            default -> lit("");
          };
      cols[i] = org.apache.spark.sql.functions.coalesce(c, fill).as(tn[1]);
    }
    return table.select(cols).collectAsList().stream().map(make).toList();
  }

  /**
   * Finds a table under the output folder and reads it as Parquet or CSV, judged by its part files.
   */
  private record Tabler(SparkSession spark, FileSystem fs, Path dir, OutputFormat defaultFormat) {
    Optional<Dataset<Row>> get(String relative) {
      Path p = new Path(dir, relative);
      try {
        if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
          return Optional.empty();
        }
        boolean parquet = false;
        boolean csv = false;
        boolean any = false;
        for (FileStatus f : fs.listStatus(p)) {
          String n = f.getPath().getName();
          if (!f.isFile() || n.startsWith("_") || n.startsWith(".")) {
            continue;
          }
          any = true;
          parquet |= n.endsWith(".parquet");
          csv |= n.contains(".csv");
        }
        if (!any) {
          return Optional.empty();
        }
        OutputFormat format =
            parquet ? OutputFormat.PARQUET : csv ? OutputFormat.CSV : defaultFormat;
        return Optional.of(Tables.read(spark, p.toString(), format));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + p + ": " + e.getMessage(), e);
      }
    }
  }

  private static FileSystem fileSystem(SparkSession spark, Path dir) {
    try {
      return dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the filesystem of " + dir, e);
    }
  }
}
