package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.ggda.InputException;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.ExampleSignal;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.NoiseConfig;
import dev.ggda.config.NoiseSignal;
import dev.ggda.config.OutputFormat;
import dev.ggda.config.ProjectionKind;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.pipeline.Runs;
import dev.ggda.spark.Ranks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * `ggda detect-noise`: the attribution pipeline, then training groups ranked as likely mislabeled
 * and, inside each group, its examples by a per-example signal, so a reviewer reads examples.
 *
 * <p>Group score (higher = more suspicious): with noise.signal self-influence, the group's
 * self-influence divided by its size; with validation, minus value_per_example on the (clean)
 * targets, i.e. harm per example. Writes {@code noise/ranked_groups/} (rank, group_id, size, score,
 * value, value_per_example, self_influence) and {@code noise/ranked_examples/} (rank, example_id,
 * group_id, label, score, example_signal and every per-example signal of {@link ExampleSignals},
 * with refit_loss where it was computed: with --inject-noise or as the example signal).
 *
 * <p>With --inject-noise (evaluation mode) noise.inject_fraction of the training labels are first
 * flipped ({@link LabelFlips}); ranked_examples and ranked_groups gain flipped, and {@code
 * noise/curve/} (method, inspected_fraction, recall) and {@code noise/summary/} (method, auc,
 * recall_at_20) compare group attribution, per-example attribution (group size 1, same method and
 * signal), each per-example signal alone (the final loss, margin, checkpoint loss, checkpoint
 * self-influence and refit loss rankings) and a random order.
 */
public final class NoiseJob {
  public static final String GROUP = "group-attribution";
  public static final String PER_EXAMPLE = "per-example-attribution";
  public static final String RANDOM = "random";
  static final int STAND_IN_TARGETS = 64;

  /** Groups named on the console. */
  static final int SHOWN = 5;

  private static final long RANDOM_SALT = 0x72616e6b4cL;

  public static final StructType CURVE =
      new StructType()
          .add("method", DataTypes.StringType, false)
          .add("inspected_fraction", DataTypes.DoubleType, false)
          .add("recall", DataTypes.DoubleType, false);
  public static final StructType SUMMARY =
      new StructType()
          .add("method", DataTypes.StringType, false)
          .add("auc", DataTypes.DoubleType, false)
          .add("recall_at_20", DataTypes.DoubleType, false);

  private NoiseJob() {}

  /** Problems found from the config alone, before Spark starts. */
  static void precheck(GgdaConfig config) {
    NoiseConfig nc = config.noise();
    if (nc.signal() == NoiseSignal.VALIDATION && config.data().targets() == null) {
      throw new InputException(
          "data.targets: noise.signal validation scores harm to a clean validation set; set"
              + " data.targets.path, or use noise.signal: self-influence");
    }
    var a = config.attribute();
    boolean projected = a.projection().kind() != ProjectionKind.NONE;
    if (nc.signal() == NoiseSignal.SELF_INFLUENCE
        && projected
        && a.projection().dim() > 4096
        && (a.method() == AttributionMethod.TRAK || a.method() == AttributionMethod.IF)) {
      throw new InputException(
          "noise.signal: self-influence needs attribute.projection.dim <= 4096 for "
              + ConfigLoader.yamlName(a.method())
              + " (got "
              + a.projection().dim()
              + "); lower the dim or use noise.signal: validation");
    }
  }

  public static String run(GgdaConfig config, boolean inject) {
    precheck(config);
    String command = inject ? "detect-noise --inject-noise" : "detect-noise";
    return Runs.execute(config, command, (p, out) -> detect(config, inject, p, out));
  }

  /**
   * The detect-noise stages of one run: rank groups, then examples inside them, and with injected
   * flips score the rankings.
   */
  private static void detect(GgdaConfig config, boolean inject, Pipeline p, RunOutput out) {
    SparkSession spark = p.spark();
    Console console = p.console();
    NoiseConfig nc = config.noise();
    OutputFormat format = config.output().format();
    Map<String, Object> summary = new LinkedHashMap<>();
    long[] flipped = inject ? NoiseInjection.inject(p, nc, "detect-noise", summary) : null;
    if (p.targetData() == null) {
      // Self-influence needs no targets, but the attribution stage scores some: a few training rows
      // stand in.
      Dataset<Row> first =
          p.trainData().examples().orderBy(col(Columns.EXAMPLE_ID)).limit(STAND_IN_TARGETS);
      p.replaceTargets(
          new LoadedData(
              first,
              p.trainData().dim(),
              p.trainData().classes(),
              Math.min(STAND_IN_TARGETS, p.trainData().count())));
      summary.put(
          "targets",
          "none given: the first "
              + STAND_IN_TARGETS
              + " training examples stand in (only self-influence is used)");
    }
    p.obtainModel(out);
    p.group(out);
    p.attribute(out);

    long t0 = System.nanoTime();
    Dataset<Row> groupScores = groupScores(spark, out, format, nc.signal(), p.info());
    Dataset<Row> rankedGroups =
        Ranks.rank(
            spark, groupScores, Ranking.nanLast(Columns.SCORE).desc(), col(Columns.GROUP_ID).asc());
    double groupRankSeconds = (System.nanoTime() - t0) / 1e9;
    boolean named = Groups.hasKey(groupScores);

    long ts = System.nanoTime();
    Dataset<Row> base =
        ExampleSignals.compute(spark, p.trainData().examples(), p.model())
            .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    base.count();
    double signalSeconds = (System.nanoTime() - ts) / 1e9;
    // The refit costs one more training: only when it orders the groups' examples or is reported.
    boolean refit = inject || nc.exampleSignal() == ExampleSignal.REFIT_LOSS;
    long tf = System.nanoTime();
    Dataset<Row> signals = base;
    if (refit) {
      signals =
          RefitLoss.add(
                  spark, p.trainData(), base, nc.refitFraction(), rows -> p.trainOn(rows, "refit"))
              .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
      signals.count();
    }
    double refitSeconds = (System.nanoTime() - tf) / 1e9;

    long te = System.nanoTime();
    String signalCol = ExampleSignals.column(nc.exampleSignal());
    Column within = ExampleSignals.suspiciousFirst(nc.exampleSignal());
    Dataset<Row> examples =
        Tables.read(spark, out.path("groups"), format)
            .select(col(Columns.EXAMPLE_ID).cast("long"), col(Columns.GROUP_ID).cast("long"))
            .join(
                named
                    ? groupScores.select(Columns.GROUP_ID, Columns.SCORE, Columns.GROUP_KEY)
                    : groupScores.select(Columns.GROUP_ID, Columns.SCORE),
                Columns.GROUP_ID)
            .join(signals, Columns.EXAMPLE_ID)
            .withColumn("example_signal", col(signalCol));
    Broadcast<long[]> bFlipped = null;
    if (inject) {
      bFlipped = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(flipped);
      Broadcast<long[]> bf = bFlipped;
      var isFlipped =
          org.apache.spark.sql.functions.udf(
              (UDF1<Long, Boolean>) id -> Arrays.binarySearch(bf.value(), id) >= 0,
              DataTypes.BooleanType);
      examples = examples.withColumn("flipped", isFlipped.apply(col(Columns.EXAMPLE_ID)));
    }
    List<String> columns =
        new ArrayList<>(
            List.of(
                Columns.EXAMPLE_ID,
                Columns.GROUP_ID,
                Columns.LABEL,
                Columns.SCORE,
                "example_signal",
                Columns.LOSS,
                Columns.MARGIN,
                Columns.CHECKPOINT_LOSS,
                Columns.CHECKPOINT_SELF_INFLUENCE));
    if (refit) {
      columns.add(Columns.REFIT_LOSS);
    }
    if (inject) {
      columns.add("flipped");
    }
    if (named) {
      columns.add(Columns.GROUP_KEY);
    }
    Dataset<Row> rankedExamples =
        Ranks.rank(
                spark,
                examples.select(columns.stream().map(c -> col(c)).toArray(Column[]::new)),
                Ranking.nanLast(Columns.SCORE).desc(),
                col(Columns.GROUP_ID).asc(),
                within,
                col(Columns.EXAMPLE_ID).asc())
            .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    if (inject) {
      Dataset<Row> flippedPerGroup =
          rankedExamples
              .groupBy(Columns.GROUP_ID)
              .agg(org.apache.spark.sql.functions.sum(col("flipped").cast("long")).as("flipped"));
      rankedGroups = rankedGroups.join(flippedPerGroup, Columns.GROUP_ID).orderBy(Columns.RANK);
      rankedGroups = rankedGroups.select(prepend(Columns.RANK, rankedGroups.columns()));
    }
    Tables.write(rankedGroups.coalesce(1), out.path("noise/ranked_groups"), format);
    Tables.write(rankedExamples, out.path("noise/ranked_examples"), format);
    double exampleRankSeconds = (System.nanoTime() - te) / 1e9;
    Map<String, Object> seconds = new LinkedHashMap<>();
    seconds.put(
        GROUP,
        p.info().stageSeconds("group")
            + p.info().stageSeconds("featurize_and_solve")
            + p.info().stageSeconds("score_and_write")
            + groupRankSeconds
            + signalSeconds
            + (nc.exampleSignal() == ExampleSignal.REFIT_LOSS ? refitSeconds : 0)
            + exampleRankSeconds);
    console.info(
        "detect-noise: ranked %,d groups (%s) and their examples (%s inside each group)",
        p.groups().count(), ConfigLoader.yamlName(nc.signal()), signalCol);
    console.info("detect-noise: most suspicious: %s", mostSuspicious(rankedGroups, named));

    if (inject) {
      long n = p.trainData().count();
      Map<String, RecallCurve> curves = new LinkedHashMap<>();
      curves.put(GROUP, new RecallCurve(Ranking.ranksWhere(rankedExamples, "flipped"), n));

      long tp = System.nanoTime();
      Dataset<Row> perExample = perExampleScores(spark, config, p, console);
      Dataset<Row> flags =
          rankedExamples.select(
              col(Columns.EXAMPLE_ID),
              col("flipped"),
              col(Columns.LOSS),
              col(Columns.MARGIN),
              col(Columns.CHECKPOINT_LOSS),
              col(Columns.CHECKPOINT_SELF_INFLUENCE),
              col(Columns.REFIT_LOSS));
      Dataset<Row> perRanked =
          Ranks.rank(
              spark,
              perExample.join(flags, Columns.EXAMPLE_ID),
              Ranking.nanLast(Columns.SCORE).desc(),
              col(Columns.EXAMPLE_ID).asc());
      curves.put(PER_EXAMPLE, new RecallCurve(Ranking.ranksWhere(perRanked, "flipped"), n));
      seconds.put(PER_EXAMPLE, (System.nanoTime() - tp) / 1e9);

      for (ExampleSignal signal : ExampleSignal.values()) {
        long tl = System.nanoTime();
        Dataset<Row> ranked =
            Ranks.rank(
                spark,
                flags,
                ExampleSignals.suspiciousFirst(signal),
                col(Columns.EXAMPLE_ID).asc());
        String name = ConfigLoader.yamlName(signal);
        curves.put(name, new RecallCurve(Ranking.ranksWhere(ranked, "flipped"), n));
        double own = signal == ExampleSignal.REFIT_LOSS ? refitSeconds : 0;
        seconds.put(name, signalSeconds + own + (System.nanoTime() - tl) / 1e9);
      }

      long tr = System.nanoTime();
      long seed = nc.seed() ^ RANDOM_SALT;
      var key =
          org.apache.spark.sql.functions.udf(
              (UDF1<Long, Long>) id -> LabelFlips.key(seed, id), DataTypes.LongType);
      Dataset<Row> randomRanked =
          Ranks.rank(
              spark,
              flags.withColumn("key", key.apply(col(Columns.EXAMPLE_ID))),
              col("key").asc(),
              col(Columns.EXAMPLE_ID).asc());
      curves.put(RANDOM, new RecallCurve(Ranking.ranksWhere(randomRanked, "flipped"), n));
      seconds.put(RANDOM, (System.nanoTime() - tr) / 1e9);

      List<Row> curveRows = new ArrayList<>();
      List<Row> summaryRows = new ArrayList<>();
      Map<String, Object> results = new LinkedHashMap<>();
      for (Map.Entry<String, RecallCurve> e : curves.entrySet()) {
        RecallCurve c = e.getValue();
        curveRows.addAll(Ranking.curveRows(e.getKey(), c));
        summaryRows.add(RowFactory.create(e.getKey(), c.auc(), c.recallAt(0.2)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("auc", c.auc());
        m.put("recall_at_10", c.recallAt(0.1));
        m.put("recall_at_20", c.recallAt(0.2));
        m.put("recall_at_30", c.recallAt(0.3));
        m.put("seconds", seconds.get(e.getKey()));
        results.put(e.getKey(), m);
        console.info(
            "detect-noise: %-24s AUC %.4f, recall at 10%% %.3f, at 20%% %.3f (%.1f s)",
            e.getKey(),
            c.auc(),
            c.recallAt(0.1),
            c.recallAt(0.2),
            (Double) seconds.get(e.getKey()));
      }
      Tables.write(
          spark.createDataFrame(curveRows, CURVE).coalesce(1), out.path("noise/curve"), format);
      Tables.write(
          spark.createDataFrame(summaryRows, SUMMARY).coalesce(1),
          out.path("noise/summary"),
          format);
      summary.put("methods", results);
      perExample.unpersist(false);
    }
    summary.put("signal", ConfigLoader.yamlName(nc.signal()));
    summary.put("example_signal", ConfigLoader.yamlName(nc.exampleSignal()));
    summary.put("groups", p.groups().count());
    summary.put("seconds", seconds);
    AppSupport.writeJson(out, "noise/summary.json", summary);
    p.info().put("noise", summary);
    rankedExamples.unpersist(false);
    signals.unpersist(false);
    base.unpersist(false);
  }

  /** The first groups of ranked_groups, named as the user names them when they carry group_key. */
  static String mostSuspicious(Dataset<Row> rankedGroups, boolean named) {
    List<GroupValue> top = new ArrayList<>();
    Column key = named ? col(Columns.GROUP_KEY) : lit(null).cast("string");
    for (Row r :
        rankedGroups
            .where(col(Columns.RANK).leq(SHOWN))
            .orderBy(Columns.RANK)
            .select(col(Columns.GROUP_ID), key)
            .collectAsList()) {
      top.add(new GroupValue(r.getLong(0), 0, 0, 0, r.getString(1)));
    }
    return GroupValue.describe(top, named, SHOWN);
  }

  private static Column[] prepend(String first, String[] columns) {
    List<Column> c = new ArrayList<>(List.of(col(first)));
    for (String s : columns) {
      if (!s.equals(first)) {
        c.add(col(s));
      }
    }
    return c.toArray(Column[]::new);
  }

  /**
   * group_id, size, score, value, value_per_example, self_influence (null when not computed), and
   * group_key when the groups carry the user's names.
   */
  static Dataset<Row> groupScores(
      SparkSession spark,
      RunOutput out,
      OutputFormat format,
      NoiseSignal signal,
      dev.ggda.io.RunInfo info) {
    Dataset<Row> table = Tables.read(spark, out.path("group_values"), format);
    boolean named = Groups.hasKey(table);
    Dataset<Row> values =
        table.select(
            col(Columns.GROUP_ID).cast("long"),
            col(Columns.SIZE).cast("long"),
            col(Columns.VALUE).cast("double"),
            col(Columns.VALUE_PER_EXAMPLE).cast("double"),
            named
                ? col(Columns.GROUP_KEY).cast("string")
                : lit(null).cast("string").as(Columns.GROUP_KEY));
    boolean haveSelf = dev.ggda.io.HadoopFiles.exists(spark, out.path("self_influence"));
    if (signal == NoiseSignal.SELF_INFLUENCE && !haveSelf) {
      throw new InputException(
          "noise.signal: self-influence was not computed for this attribution setting"
              + " (see self_influence_note in run.json); use noise.signal: validation or change attribute.method");
    }
    Dataset<Row> self =
        haveSelf
            ? Tables.read(spark, out.path("self_influence"), format)
                .select(
                    col(Columns.GROUP_ID).cast("long"), col(Columns.SELF_INFLUENCE).cast("double"))
            : values.select(
                col(Columns.GROUP_ID), lit(null).cast("double").as(Columns.SELF_INFLUENCE));
    Dataset<Row> joined = values.join(self, Columns.GROUP_ID);
    Column score =
        signal == NoiseSignal.SELF_INFLUENCE
            ? col(Columns.SELF_INFLUENCE).divide(col(Columns.SIZE))
            : col(Columns.VALUE_PER_EXAMPLE).multiply(-1.0);
    Dataset<Row> scored = joined.withColumn(Columns.SCORE, score);
    return named
        ? scored.select(
            Columns.GROUP_ID,
            Columns.SIZE,
            Columns.SCORE,
            Columns.VALUE,
            Columns.VALUE_PER_EXAMPLE,
            Columns.SELF_INFLUENCE,
            Columns.GROUP_KEY)
        : scored.select(
            Columns.GROUP_ID,
            Columns.SIZE,
            Columns.SCORE,
            Columns.VALUE,
            Columns.VALUE_PER_EXAMPLE,
            Columns.SELF_INFLUENCE);
  }

  /** example_id, score: the same method and signal with every example its own group (size 1). */
  static Dataset<Row> perExampleScores(
      SparkSession spark, GgdaConfig config, Pipeline p, Console console) {
    GroupConfig g = config.group().with(config.group().method(), 1, null);
    GgdaConfig c1 = config.withGroup(g);
    LoadedData train = p.trainData();
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    Groups groups = GroupingStage.assign(spark, c1, train, p.model());
    AttributionStage stage =
        new AttributionStage(
            config.attribute(),
            config.compute().device(),
            line -> console.info("per-example %s", line));
    AttributionStage.Prepared prepared =
        stage.prepare(
            train,
            groups.assignment(),
            stage.featurizeTargets(p.targetData(), p.model(), train.count(), partitions),
            p.model(),
            train.count(),
            partitions);
    ScoreStage.Scored tables = ScoreStage.score(spark, prepared.blocks, prepared.operator, 1);
    Dataset<Row> scores;
    if (config.noise().signal() == NoiseSignal.SELF_INFLUENCE) {
      if (tables.selfInfluence == null) {
        throw new InputException(
            "noise.signal: self-influence was not computed for this attribution setting; use noise.signal: validation");
      }
      scores =
          tables.selfInfluence.select(
              col(Columns.GROUP_ID), col(Columns.SELF_INFLUENCE).as(Columns.SCORE));
    } else {
      scores =
          tables.groupValues.select(
              col(Columns.GROUP_ID),
              col(Columns.VALUE_PER_EXAMPLE).multiply(-1.0).as(Columns.SCORE));
    }
    Dataset<Row> perExample =
        groups
            .assignment()
            .join(scores, Columns.GROUP_ID)
            .select(Columns.EXAMPLE_ID, Columns.SCORE)
            .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    perExample.count();
    tables.release();
    prepared.blocks.unpersist(false);
    groups.assignment().unpersist(false);
    return perExample;
  }
}
