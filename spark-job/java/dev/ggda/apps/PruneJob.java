package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;

import dev.ggda.InputException;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.OutputFormat;
import dev.ggda.config.PruneConfig;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.math.Seeds;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.pipeline.Runs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * `ggda prune`: the whole attribution pipeline with the targets as the validation set, then the
 * groups ranked by value (lowest, i.e. most harmful, first) and dropped until prune.fraction of the
 * examples is gone; writes under output.path, beside the usual tables:
 *
 * <ul>
 *   <li>{@code prune/kept_groups/}, {@code prune/dropped_groups/}: group_id, size, value,
 *       value_per_example, position (1-based, in the ranking: 1 = lowest value);
 *   <li>{@code prune/data/}: the pruned training set in the input's format ({@link PrunedData});
 *   <li>{@code prune/manifest.json}: counts, the ranking used, the config, kept and dropped group
 *       ids;
 *   <li>{@code prune/summary.json}: counts, fractions, value ranges and label counts before and
 *       after;
 *   <li>with --validate, {@code prune/validation/}: fraction, strategy (attribution | random | full
 *       | each of prune.validate_baselines | oracle with --inject-noise), accuracy_mean,
 *       accuracy_std, seeds, from models retrained on each pruned set.
 * </ul>
 *
 * <p>With --inject-noise (evaluation mode) noise.inject_fraction of the training labels are flipped
 * first (as detect-noise does); the summary says how many flipped examples pruning dropped and
 * prune/data is not written.
 */
public final class PruneJob {
  static final long TEST_SPLIT_SALT = 0x74657374L;

  public static final StructType GROUP_TABLE =
      new StructType()
          .add(Columns.GROUP_ID, DataTypes.LongType, false)
          .add(Columns.SIZE, DataTypes.LongType, false)
          .add(Columns.VALUE, DataTypes.DoubleType, false)
          .add(Columns.VALUE_PER_EXAMPLE, DataTypes.DoubleType, false)
          .add("position", DataTypes.LongType, false);

  public static final StructType VALIDATION_TABLE =
      new StructType()
          .add("fraction", DataTypes.DoubleType, false)
          .add("strategy", DataTypes.StringType, false)
          .add("accuracy_mean", DataTypes.DoubleType, false)
          .add("accuracy_std", DataTypes.DoubleType, false)
          .add("seeds", DataTypes.IntegerType, false);

  private PruneJob() {}

  public static String run(GgdaConfig config, boolean validate) {
    return run(config, validate, false);
  }

  /**
   * @param inject evaluation mode: flip noise.inject_fraction of the training labels first, report
   *     how many of them pruning drops, add the oracle to --validate, and write no prune/data
   */
  public static String run(GgdaConfig config, boolean validate, boolean inject) {
    if (config.data().targets() == null) {
      throw new InputException(
          "data.targets: prune ranks groups by their value on a validation set; set data.targets.path"
              + " (e.g. a held-out validation split)");
    }
    String command = "prune" + (validate ? " --validate" : "") + (inject ? " --inject-noise" : "");
    return Runs.execute(
        config, command, (p, out) -> prune(config, command, validate, inject, p, out));
  }

  /**
   * The prune stages of one run: rank the groups on the validation targets, drop, write, and maybe
   * validate.
   */
  private static void prune(
      GgdaConfig config,
      String command,
      boolean validate,
      boolean inject,
      Pipeline p,
      RunOutput out) {
    SparkSession spark = p.spark();
    Console console = p.console();
    PruneConfig pc = config.prune();
    OutputFormat format = config.output().format();
    LoadedData test = validate ? splitTargets(config, p) : null;
    Map<String, Object> noise = new LinkedHashMap<>();
    long[] flipped = inject ? NoiseInjection.inject(p, config.noise(), "prune", noise) : null;
    p.obtainModel(out);
    p.group(out);
    p.attribute(out);

    long t0 = System.nanoTime();
    Dataset<Row> valueTable = AppSupport.read(spark, out, "group_values", format);
    boolean named = Groups.hasKey(valueTable);
    List<GroupValue> values = AppSupport.groupValues(valueTable);
    PrunePlan plan = PrunePlan.plan(values, pc.rankBy(), pc.fraction(), pc.threshold());
    Tables.write(
        groupTable(spark, plan.keptGroups(), plan.positions(false), named),
        out.path("prune/kept_groups"),
        format);
    Tables.write(
        groupTable(spark, plan.droppedGroups(), plan.positions(true), named),
        out.path("prune/dropped_groups"),
        format);
    long[] droppedIds = droppedIds(spark, out, format, plan);
    Map<String, Object> data = new LinkedHashMap<>();
    if (inject) {
      data.put("written", false);
      data.put(
          "reason", "--inject-noise is an evaluation run: its training labels are not the input's");
    } else {
      data.put("path", out.finalPath() + "/prune/data");
      data.putAll(
          PrunedData.write(
              spark, config.data().train(), p.trainData(), droppedIds, out.path("prune/data")));
    }
    double pruneSeconds = (System.nanoTime() - t0) / 1e9;

    Map<String, Object> summary = summary(spark, config, plan, p.trainData(), droppedIds);
    summary.put("prune_seconds", pruneSeconds);
    if (inject) {
      noise.put("dropped_flipped", countShared(droppedIds, flipped));
      summary.put("noise", noise);
      console.info(
          "prune: the dropped examples hold %,d of the %,d flipped labels",
          (Long) noise.get("dropped_flipped"), flipped.length);
    }
    console.info(
        "prune: dropped %,d of %,d groups = %,d of %,d examples (%.1f%%, asked %.1f%%), ranked by %s; wrote prune/data as %s",
        plan.dropCount(),
        plan.order().size(),
        plan.droppedExamples(),
        plan.totalExamples(),
        100 * plan.droppedFraction(),
        100 * pc.fraction(),
        ConfigLoader.yamlName(pc.rankBy()),
        data.get("format"));
    if (!plan.droppedGroups().isEmpty()) {
      console.info(
          "prune: dropped (most harmful first): %s",
          GroupValue.describe(plan.droppedGroups(), named, 10));
    }

    if (validate) {
      long tv = System.nanoTime();
      List<PruneValidation.Point> points =
          validate(spark, config, p, out, values, test, flipped, console);
      List<Row> rows = new ArrayList<>();
      for (PruneValidation.Point pt : points) {
        rows.add(
            RowFactory.create(
                pt.fraction(), pt.strategy(), pt.accuracyMean(), pt.accuracyStd(), pt.seeds()));
      }
      Tables.write(
          spark.createDataFrame(rows, VALIDATION_TABLE).coalesce(1),
          out.path("prune/validation"),
          format);
      List<Map<String, Object>> table = new ArrayList<>();
      for (PruneValidation.Point pt : points) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("fraction", pt.fraction());
        row.put("strategy", pt.strategy());
        row.put("accuracy_mean", pt.accuracyMean());
        row.put("accuracy_std", pt.accuracyStd());
        row.put("seeds", pt.seeds());
        table.add(row);
      }
      summary.put("validation", table);
      summary.put("validation_seconds", (System.nanoTime() - tv) / 1e9);
    }
    AppSupport.writeJson(out, "prune/summary.json", summary);
    AppSupport.writeJson(out, "prune/manifest.json", manifest(config, command, plan, data, named));
    p.info().put("prune", summary);
  }

  /**
   * With --validate: a seeded share of the targets is held out to test the retrained models; the
   * rest ranks.
   */
  private static LoadedData splitTargets(GgdaConfig config, Pipeline p) {
    PruneConfig pc = config.prune();
    LoadedData[] parts =
        AppSupport.split(
            p.targetData(), pc.testFraction(), Seeds.mix(TEST_SPLIT_SALT, config.train().seed()));
    if (parts[0].count() == 0 || parts[1].count() == 0) {
      throw new InputException(
          "prune.test_fraction: "
              + pc.testFraction()
              + " of "
              + p.targetData().count()
              + " targets leaves "
              + parts[0].count()
              + " for ranking and "
              + parts[1].count()
              + " for testing; both need at least one, give more targets or change the fraction");
    }
    p.replaceTargets(parts[0]);
    p.info().count("validation_targets", parts[0].count()).count("test_targets", parts[1].count());
    p.console()
        .info(
            "prune: %,d targets rank the groups, %,d are held out to test the retrained models",
            parts[0].count(), parts[1].count());
    return parts[1];
  }

  /** kept_groups/ or dropped_groups/; with the groups' names (group_key) when they have them. */
  static Dataset<Row> groupTable(
      SparkSession spark, List<GroupValue> groups, List<Long> positions, boolean named) {
    List<Row> rows = new ArrayList<>(groups.size());
    for (int i = 0; i < groups.size(); i++) {
      GroupValue g = groups.get(i);
      rows.add(
          named
              ? RowFactory.create(
                  g.groupId(),
                  g.size(),
                  g.value(),
                  g.valuePerExample(),
                  positions.get(i),
                  g.groupKey())
              : RowFactory.create(
                  g.groupId(), g.size(), g.value(), g.valuePerExample(), positions.get(i)));
    }
    StructType schema =
        named ? GROUP_TABLE.add(Columns.GROUP_KEY, DataTypes.StringType, true) : GROUP_TABLE;
    return spark.createDataFrame(rows, schema).coalesce(1);
  }

  /**
   * Ids of the examples in dropped groups, ascending (at most fraction x n longs on the driver).
   */
  static long[] droppedIds(SparkSession spark, RunOutput out, OutputFormat format, PrunePlan plan) {
    List<Row> ids = new ArrayList<>();
    for (GroupValue g : plan.droppedGroups()) {
      ids.add(RowFactory.create(g.groupId()));
    }
    Dataset<Row> dropped =
        spark.createDataFrame(
            ids, new StructType().add(Columns.GROUP_ID, DataTypes.LongType, false));
    List<Row> rows =
        AppSupport.read(spark, out, "groups", format)
            .join(org.apache.spark.sql.functions.broadcast(dropped), Columns.GROUP_ID)
            .select(col(Columns.EXAMPLE_ID).cast(DataTypes.LongType))
            .collectAsList();
    long[] out2 = new long[rows.size()];
    for (int i = 0; i < out2.length; i++) {
      out2[i] = rows.get(i).getLong(0);
    }
    Arrays.sort(out2);
    if (out2.length != plan.droppedExamples()) {
      throw new IllegalStateException(
          "groups/ holds "
              + out2.length
              + " examples of the dropped groups, group_values says "
              + plan.droppedExamples());
    }
    return out2;
  }

  static Map<String, Object> summary(
      SparkSession spark, GgdaConfig config, PrunePlan plan, LoadedData train, long[] droppedIds) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("rank_by", ConfigLoader.yamlName(plan.rankBy()));
    s.put("fraction_requested", config.prune().fraction());
    s.put("threshold", config.prune().threshold());
    s.put("fraction_dropped", plan.droppedFraction());
    s.put("examples_total", plan.totalExamples());
    s.put("examples_dropped", plan.droppedExamples());
    s.put("examples_kept", plan.keptExamples());
    s.put("groups_total", plan.order().size());
    s.put("groups_dropped", plan.dropCount());
    s.put("groups_kept", plan.order().size() - plan.dropCount());
    s.put("dropped_value_range", range(plan.droppedGroups(), plan));
    s.put("kept_value_range", range(plan.keptGroups(), plan));
    // Label counts before and after (classes x 2 numbers).
    var broadcast =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
            .broadcast(droppedIds);
    var isDropped =
        org.apache.spark.sql.functions.udf(
            (org.apache.spark.sql.api.java.UDF1<Long, Boolean>)
                id -> Arrays.binarySearch(broadcast.value(), id) >= 0,
            DataTypes.BooleanType);
    Map<Integer, long[]> labels = new TreeMap<>();
    for (Row r :
        train
            .examples()
            .groupBy(col(Columns.LABEL), isDropped.apply(col(Columns.EXAMPLE_ID)).as("d"))
            .count()
            .collectAsList()) {
      labels.computeIfAbsent(r.getInt(0), k -> new long[2])[r.getBoolean(1) ? 1 : 0] +=
          r.getLong(2);
    }
    Map<String, Object> before = new LinkedHashMap<>();
    Map<String, Object> after = new LinkedHashMap<>();
    labels.forEach(
        (label, c) -> {
          before.put(String.valueOf(label), c[0] + c[1]);
          after.put(String.valueOf(label), c[0]);
        });
    s.put("label_counts_before", before);
    s.put("label_counts_after", after);
    return s;
  }

  private static Map<String, Object> range(List<GroupValue> groups, PrunePlan plan) {
    Map<String, Object> r = new LinkedHashMap<>();
    if (groups.isEmpty()) {
      return r;
    }
    r.put("min", PrunePlan.rankValue(groups.get(0), plan.rankBy()));
    r.put("max", PrunePlan.rankValue(groups.get(groups.size() - 1), plan.rankBy()));
    return r;
  }

  static Map<String, Object> manifest(
      GgdaConfig config, String command, PrunePlan plan, Map<String, Object> data, boolean named) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("command", command);
    Map<String, Object> ranking = new LinkedHashMap<>();
    ranking.put("table", "group_values");
    ranking.put("rank_by", ConfigLoader.yamlName(plan.rankBy()));
    ranking.put(
        "order",
        "ascending (most harmful first), ties by group_id; walked in this order, a group is dropped when it"
            + " fits the remaining budget of round(fraction x n) examples"
            + (config.prune().threshold() == null ? "" : " and its value is below the threshold")
            + ", otherwise kept");
    ranking.put("targets", "data.targets (the validation set)");
    ranking.put("attribution", ConfigLoader.yamlName(config.attribute().method()));
    m.put("ranking", ranking);
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("examples_total", plan.totalExamples());
    counts.put("examples_target", plan.targetExamples());
    counts.put("examples_dropped", plan.droppedExamples());
    counts.put("examples_kept", plan.keptExamples());
    counts.put("groups_total", plan.order().size());
    counts.put("groups_dropped", plan.dropCount());
    counts.put("groups_kept", plan.order().size() - plan.dropCount());
    m.put("counts", counts);
    m.put("data", data);
    m.put("dropped_group_ids", plan.droppedGroups().stream().map(GroupValue::groupId).toList());
    m.put("kept_group_ids", plan.keptGroups().stream().map(GroupValue::groupId).sorted().toList());
    if (named) {
      // Parallel to dropped_group_ids: the user's name of each dropped group, in the same order.
      m.put("dropped_group_keys", plan.droppedGroups().stream().map(GroupValue::groupKey).toList());
    }
    try {
      m.put("config", AppSupport.JSON.readTree(ConfigLoader.toJson(config)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return m;
  }

  /** How many ids two ascending arrays share. */
  static long countShared(long[] a, long[] b) {
    long n = 0;
    for (int i = 0, j = 0; i < a.length && j < b.length; ) {
      if (a[i] == b[j]) {
        n++;
        i++;
        j++;
      } else if (a[i] < b[j]) {
        i++;
      } else {
        j++;
      }
    }
    return n;
  }

  private static List<PruneValidation.Point> validate(
      SparkSession spark,
      GgdaConfig config,
      Pipeline p,
      RunOutput out,
      List<GroupValue> values,
      LoadedData test,
      long[] flipped,
      Console console) {
    LocalData train = LocalData.collect(p.trainData());
    LocalData testLocal = LocalData.collect(test);
    // Group of every training row, in the id order of LocalData (n longs).
    Map<Long, Long> groupOf = new java.util.HashMap<>();
    for (Row r :
        AppSupport.read(spark, out, "groups", config.output().format())
            .select(Columns.EXAMPLE_ID, Columns.GROUP_ID)
            .collectAsList()) {
      groupOf.put(r.getLong(0), r.getLong(1));
    }
    long[] groups = new long[train.size()];
    for (int i = 0; i < groups.length; i++) {
      groups[i] = groupOf.get(train.ids()[i]);
    }
    List<PruneValidation.Trial> runs =
        PruneValidation.runs(
            train.ids(),
            groups,
            values,
            config.prune().rankBy(),
            config.prune().validateFractions(),
            config.prune().validateSeeds(),
            config.train().seed(),
            PruneBaselines.of(
                spark,
                p,
                train.ids(),
                config.prune().validateBaselines(),
                config.noise().refitFraction(),
                flipped));
    console.info(
        "prune --validate: %d retrainings (%d fractions x attribution, random, %d baselines; full data%s) x %d seeds, scored on %,d test targets",
        runs.size(),
        config.prune().validateFractions().size(),
        config.prune().validateBaselines().size(),
        flipped == null ? "" : ", oracle",
        config.prune().validateSeeds(),
        testLocal.size());
    double[] acc =
        Retraining.accuracies(
            spark,
            train,
            testLocal,
            p.model().architecture(),
            config.train(),
            p.model().l2(),
            runs,
            out.path(RunOutput.STAGES + "/prune-retrain"),
            line -> console.info("%s", line));
    return PruneValidation.summarise(runs, acc, config.prune().validateFractions());
  }
}
