package dev.ggda.evaluation;

import dev.ggda.config.EvalMetric;
import dev.ggda.config.EvaluateConfig;
import dev.ggda.config.SeedMode;
import dev.ggda.config.TrainConfig;
import dev.ggda.data.Columns;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Fidelity of one attribution result by retraining: LDS over example subsets, group LDS over
 * subsets of whole groups, counterfactual removal of the top-valued groups against random removal
 * and no removal, and leave-one-group-out. Retrainings of the same rows and seed are shared between
 * calls (the {@link Retrainer}'s store), so several attribution results of one model (an
 * efficiency-fidelity grid) pay for the example-level subsets and the baselines once.
 */
public final class EvaluationStage {
  /**
   * Seed streams of the LDS retrainings in independent mode, apart from each other and the paired
   * seeds.
   */
  static final long LDS_STREAM = 1001;

  static final long GROUP_LDS_STREAM = 1002;

  private final SparkSession spark;
  private final EvaluateConfig config;
  private final Retrainer retrainer;
  private final String retrainDir;
  private final Consumer<String> log;

  /**
   * The training set and targets on the driver (both ordered by example_id), and the model recipe.
   * A training set too large for one executor comes as {@code distributed} with its positions on
   * the executors ({@link #distributed}; {@code train} null): each retraining is then a distributed
   * training, and the driver holds no example ids.
   */
  public record Inputs(
      LocalData train,
      LocalData targets,
      Architecture arch,
      TrainConfig trainConfig,
      double l2,
      dev.ggda.data.LoadedData distributed,
      Dataset<Row> positions,
      int trainSize) {
    public Inputs(
        LocalData train, LocalData targets, Architecture arch, TrainConfig trainConfig, double l2) {
      this(train, targets, arch, trainConfig, l2, null, null, train.size());
    }

    /**
     * A training set that stays on the executors; its (example_id, position) table is persisted
     * there.
     */
    public static Inputs distributed(
        dev.ggda.data.LoadedData train,
        LocalData targets,
        Architecture arch,
        TrainConfig trainConfig,
        double l2) {
      return new Inputs(
          null,
          targets,
          arch,
          trainConfig,
          l2,
          train,
          Positions.of(train.examples().sparkSession(), train.examples()),
          Math.toIntExact(train.count()));
    }
  }

  /** What one attribution result is evaluated on: its groups and its score tables. */
  public record Attribution(
      String tag, Dataset<Row> groups, Dataset<Row> scores, Dataset<Row> groupValues) {}

  private final Inputs in;

  /**
   * @param stagingDir where finished retrainings are stored when evaluate.retrain_store is not set
   *     (the run's staging folder: reused by a resumed run); may be null
   */
  public EvaluationStage(
      SparkSession spark,
      EvaluateConfig config,
      Inputs in,
      String stagingDir,
      Consumer<String> log) {
    this.spark = spark;
    this.config = config;
    this.in = in;
    this.log = log;
    this.retrainer = new Retrainer(spark, in.arch(), in.trainConfig(), in.l2()).log(log);
    this.retrainDir =
        config.retrainStore() == null
            ? stagingDir
            : new org.apache.hadoop.fs.Path(
                    config.retrainStore(), String.format("%016x", recipeKey(in)))
                .toString();
    if (config.retrainStore() != null) {
      log.accept(
          "evaluate: retrainings kept in "
              + retrainDir
              + " (evaluate.retrain_store, keyed by recipe and data)");
    }
  }

  /**
   * What a stored retraining depends on besides its rows and seed: the architecture, the training
   * recipe without its seed, the L2 term, the training set and the targets its outputs are measured
   * on. Evaluations with the same key share their retrainings.
   */
  static long recipeKey(Inputs in) {
    Architecture a = in.arch();
    long h = Seeds.mix(Seeds.mix(a.inputDim(), Arrays.hashCode(a.hidden())), a.classes());
    h = Seeds.mix(h, a.activation().name().hashCode());
    h = Seeds.mix(h, Retrainer.withSeed(in.trainConfig().oneMember(), 0).toString().hashCode());
    h = Seeds.mix(h, Double.doubleToLongBits(in.l2()));
    h =
        Seeds.mix(
            h,
            in.train() != null
                ? contentHash(in.train())
                : distributedContentHash(in.distributed()));
    return Seeds.mix(h, contentHash(in.targets()));
  }

  private static long contentHash(LocalData d) {
    long h = Seeds.mix(d.size(), d.dim());
    for (int i = 0; i < d.size(); i++) {
      h = Seeds.mix(h, d.ids()[i] * 31 + d.labels()[i]);
    }
    for (float f : d.features()) {
      h = Seeds.mix(h, Float.floatToIntBits(f));
    }
    return h;
  }

  /** Order-independent: the XOR of a hash of every row (ids are unique). */
  private static long distributedContentHash(dev.ggda.data.LoadedData d) {
    Row r =
        d.examples()
            .agg(
                org.apache.spark.sql.functions.bit_xor(
                    org.apache.spark.sql.functions.xxhash64(
                        org.apache.spark.sql.functions.col(Columns.EXAMPLE_ID),
                        org.apache.spark.sql.functions.col(Columns.LABEL),
                        org.apache.spark.sql.functions.col(Columns.FEATURES))))
            .first();
    return Seeds.mix(d.count(), r.isNullAt(0) ? 0 : r.getLong(0));
  }

  /**
   * One removal: fraction, strategy (attributed | random | none), examples removed, outputs over
   * seeds.
   */
  public record RemovalRow(
      double fraction,
      String strategy,
      long examplesRemoved,
      int seeds,
      double targetLossMean,
      double targetLossStd,
      double targetAccuracyMean,
      double targetAccuracyStd) {}

  /**
   * Leave one group out: the group, its size, the predicted and the actual change of the summed
   * target loss.
   */
  public record LooRow(long groupId, long size, double predicted, double actual) {}

  /** Everything measured for one attribution result; NaN / empty for metrics not run. */
  public static final class Fidelity {
    public double lds = Double.NaN;

    /**
     * LDS against the first run of each subset alone: equals {@link #lds} with one run per subset.
     */
    public double ldsOneRun = Double.NaN;

    public double[] ldsPerTarget = new double[0];
    public double groupLds = Double.NaN;
    public double groupLdsOneRun = Double.NaN;
    public double[] groupLdsPerTarget = new double[0];
    public final List<RemovalRow> removal = new ArrayList<>();

    /**
     * Mean over fractions of (target loss after removing the top-valued groups - target loss on
     * full data).
     */
    public double removalEffect = Double.NaN;

    /** The same for random removal of as many examples. */
    public double randomRemovalEffect = Double.NaN;

    public final List<LooRow> loo = new ArrayList<>();
    public double looPearson = Double.NaN;
    public double looSpearman = Double.NaN;
    public long[] targetIds = new long[0];

    public Map<String, Object> summary() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("lds", lds);
      m.put("group_lds", groupLds);
      m.put("lds_one_run", ldsOneRun);
      m.put("group_lds_one_run", groupLdsOneRun);
      m.put("removal_effect", removalEffect);
      m.put("random_removal_effect", randomRemovalEffect);
      m.put("loo_pearson", looPearson);
      m.put("loo_spearman", looSpearman);
      return m;
    }
  }

  /** Groups of the training set: index per example position, ids and sizes per group. */
  static final class GroupIndex {
    final long[] groupIds;
    final int[] sizes;
    final int[] groupOf; // per example position
    final int[][] members; // positions per group, ascending

    /** From groups/ and the training set's sorted ids on the driver. */
    static GroupIndex of(long[] exampleIds, Dataset<Row> groups) {
      List<Row> rows = groups.select(Columns.EXAMPLE_ID, Columns.GROUP_ID).collectAsList();
      if (rows.size() != exampleIds.length) {
        throw new IllegalStateException(
            "groups/ has " + rows.size() + " rows for " + exampleIds.length + " training examples");
      }
      long[] positionAndGroup = new long[2 * rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        int pos = Arrays.binarySearch(exampleIds, r.getLong(0));
        if (pos < 0) {
          throw new IllegalStateException(
              "groups/ names example " + r.getLong(0) + " that is not in the training set");
        }
        positionAndGroup[2 * i] = pos;
        positionAndGroup[2 * i + 1] = r.getLong(1);
      }
      return new GroupIndex(exampleIds.length, positionAndGroup);
    }

    /**
     * From groups/ and the positions on the executors: only (position, group) pairs reach the
     * driver, as one long array per partition.
     */
    static GroupIndex of(int n, Dataset<Row> positions, Dataset<Row> groups) {
      List<long[]> parts =
          positions
              .join(groups.select(Columns.EXAMPLE_ID, Columns.GROUP_ID), Columns.EXAMPLE_ID)
              .select(Positions.POSITION, Columns.GROUP_ID)
              .javaRDD()
              .mapPartitions(
                  it -> {
                    java.util.stream.LongStream.Builder v = java.util.stream.LongStream.builder();
                    it.forEachRemaining(r -> v.add(r.getLong(0)).add(r.getLong(1)));
                    return List.of(v.build().toArray()).iterator();
                  })
              .collect();
      int total = parts.stream().mapToInt(p -> p.length).sum();
      if (total != 2 * n) {
        throw new IllegalStateException(
            "groups/ has " + total / 2 + " rows for " + n + " training examples");
      }
      long[] positionAndGroup = new long[total];
      int k = 0;
      for (long[] p : parts) {
        System.arraycopy(p, 0, positionAndGroup, k, p.length);
        k += p.length;
      }
      return new GroupIndex(n, positionAndGroup);
    }

    /**
     * @param positionAndGroup (position, group id) pairs, every position once
     */
    private GroupIndex(int n, long[] positionAndGroup) {
      groupIds =
          java.util.stream.IntStream.range(0, positionAndGroup.length / 2)
              .mapToLong(i -> positionAndGroup[2 * i + 1])
              .distinct()
              .sorted()
              .toArray();
      sizes = new int[groupIds.length];
      groupOf = new int[n];
      for (int i = 0; i < positionAndGroup.length; i += 2) {
        int g = Arrays.binarySearch(groupIds, positionAndGroup[i + 1]);
        groupOf[(int) positionAndGroup[i]] = g;
        sizes[g]++;
      }
      members = new int[groupIds.length][];
      int[] fill = new int[groupIds.length];
      for (int g = 0; g < groupIds.length; g++) {
        members[g] = new int[sizes[g]];
      }
      for (int i = 0; i < groupOf.length; i++) {
        members[groupOf[i]][fill[groupOf[i]]++] = i;
      }
    }

    int count() {
      return groupIds.length;
    }

    /** Sorted positions of the examples of the given groups. */
    int[] rowsOf(int[] groups) {
      int total = 0;
      for (int g : groups) {
        total += sizes[g];
      }
      int[] out = new int[total];
      int k = 0;
      for (int g : groups) {
        System.arraycopy(members[g], 0, out, k, sizes[g]);
        k += sizes[g];
      }
      Arrays.sort(out);
      return out;
    }
  }

  /** "independent seeds, 1 run per subset", as the log and the tables say it. */
  private String runsDescription() {
    String mode =
        config.seedMode() == SeedMode.SHARED
            ? "shared seeds (common random numbers)"
            : "independent seeds";
    return mode + ", " + config.seeds() + (config.seeds() == 1 ? " run" : " runs") + " per subset";
  }

  /**
   * How the fidelity figures were measured, for run.json and every table built from it: the seed
   * mode and runs per subset of LDS and group LDS, m, alpha, the targets, and the removal setup.
   */
  public Map<String, Object> protocol() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("seed_mode", config.seedMode().name().toLowerCase(java.util.Locale.ROOT));
    p.put("runs_per_subset", config.seeds());
    p.put("subsets", config.subsets());
    p.put("group_subsets", config.groupSubsetCount());
    p.put("fraction", config.fraction());
    p.put("targets", in.targets().size());
    p.put("removal_fractions", config.removalFractions());
    p.put("removal_seeds", config.removalSeeds());
    p.put("removal_seed_mode", "paired");
    return p;
  }

  public Fidelity evaluate(Attribution a) {
    Fidelity result = new Fidelity();
    int n = in.trainSize();
    GroupIndex gi =
        in.train() != null
            ? GroupIndex.of(in.train().ids(), a.groups())
            : GroupIndex.of(n, in.positions(), a.groups());
    long[] targetIds = targetIds(a.scores());
    result.targetIds = targetIds;
    List<EvalMetric> metrics = config.metrics();
    if (metrics.contains(EvalMetric.LDS)) {
      int m = config.subsets();
      int size = (int) Math.round(config.fraction() * n);
      int[][] subsets = new int[m][];
      float[] weights = new float[gi.count() * m];
      for (int j = 0; j < m; j++) {
        subsets[j] = Subsets.sample(n, size, Seeds.mix(config.seed(), 1), j);
        for (int i : subsets[j]) {
          int g = gi.groupOf[i];
          weights[g * m + j] += 1f / gi.sizes[g];
        }
      }
      double[][] predicted =
          SubsetScoreSums.predict(spark, a.scores(), targetIds, gi.groupIds, weights, m);
      Truth actual =
          outputs(
              subsetSpecs(config, "lds", LDS_STREAM, subsets), subsets.length, targetIds.length);
      result.ldsPerTarget = Lds.perTarget(predicted, actual.mean());
      result.lds = Correlation.nanMean(result.ldsPerTarget);
      result.ldsOneRun = Correlation.nanMean(Lds.perTarget(predicted, actual.firstRun()));
      log.accept(
          String.format(
              "evaluate: %s LDS %.4f (%d subsets of %d examples, %d targets, %s)",
              a.tag(), result.lds, m, size, targetIds.length, runsDescription()));
    }
    if (metrics.contains(EvalMetric.GROUP_LDS)) {
      int m = config.groupSubsetCount();
      int keep = Math.max(1, (int) Math.round(config.fraction() * gi.count()));
      int[][] subsets = new int[m][];
      float[] weights = new float[gi.count() * m];
      for (int j = 0; j < m; j++) {
        int[] groups = Subsets.sample(gi.count(), keep, Seeds.mix(config.seed(), 2), j);
        for (int g : groups) {
          weights[g * m + j] = 1f;
        }
        subsets[j] = gi.rowsOf(groups);
      }
      double[][] predicted =
          SubsetScoreSums.predict(spark, a.scores(), targetIds, gi.groupIds, weights, m);
      Truth actual =
          outputs(
              subsetSpecs(config, "glds-" + a.tag(), GROUP_LDS_STREAM, subsets),
              subsets.length,
              targetIds.length);
      result.groupLdsPerTarget = Lds.perTarget(predicted, actual.mean());
      result.groupLds = Correlation.nanMean(result.groupLdsPerTarget);
      result.groupLdsOneRun = Correlation.nanMean(Lds.perTarget(predicted, actual.firstRun()));
      log.accept(
          String.format(
              "evaluate: %s group LDS %.4f (%d subsets of %d of %d groups, %s)",
              a.tag(), result.groupLds, m, keep, gi.count(), runsDescription()));
    }
    if (metrics.contains(EvalMetric.REMOVAL) || metrics.contains(EvalMetric.LOO)) {
      List<Row> values =
          a.groupValues()
              .select(Columns.GROUP_ID, Columns.VALUE, Columns.VALUE_PER_EXAMPLE)
              .collectAsList();
      if (metrics.contains(EvalMetric.REMOVAL)) {
        removal(a, gi, values, result);
      }
      if (metrics.contains(EvalMetric.LOO)) {
        loo(a, gi, values, result);
      }
    }
    return result;
  }

  /**
   * Target ids in ascending order (the eval rows are the targets in example_id order; -1 is the
   * aggregate).
   */
  private long[] targetIds(Dataset<Row> scores) {
    long[] ids =
        scores.select(Columns.TARGET_ID).distinct().collectAsList().stream()
            .mapToLong(r -> r.getLong(0))
            .sorted()
            .toArray();
    if (ids.length == 1 && ids[0] == -1L) {
      return ids;
    }
    if (!Arrays.equals(ids, in.targets().ids())) {
      throw new dev.ggda.InputException(
          "evaluate: scores/ covers "
              + ids.length
              + " targets but data.targets has "
              + in.targets().size()
              + "; evaluation needs every target x group pair: set output.top_k: null");
    }
    return ids;
  }

  /**
   * Seed of replicate s wherever strategies are compared (removal: attributed, random, none;
   * leave-one-group-out: with and without the group): pairing the seeds takes the training noise
   * out of the difference, which is what those comparisons measure.
   */
  private long pairedSeed(int s) {
    return pairedSeed(config, s);
  }

  private static long pairedSeed(EvaluateConfig config, int s) {
    return Seeds.mix(config.seed(), 100 + s);
  }

  /**
   * The retrainings of one LDS, run s of subset j for every j and s, in that order. In independent
   * mode each (j, s) draws its own seed from {@code stream}, as TRAK and dattri retrain, and the
   * first runs do not depend on how many runs there are; in shared mode run s of every subset
   * reuses the paired seed s (common random numbers).
   */
  static List<RetrainSpec> subsetSpecs(
      EvaluateConfig config, String prefix, long stream, int[][] subsets) {
    List<RetrainSpec> specs = new ArrayList<>();
    for (int j = 0; j < subsets.length; j++) {
      for (int s = 0; s < config.seeds(); s++) {
        long seed =
            switch (config.seedMode()) {
              case INDEPENDENT -> Seeds.mix(Seeds.mix(Seeds.mix(config.seed(), stream), j), s);
              case SHARED -> pairedSeed(config, s);
            };
        specs.add(new RetrainSpec(prefix + "-j" + j + "-s" + s, subsets[j], seed));
      }
    }
    return specs;
  }

  /**
   * The retrained models' outputs on the targets per subset: averaged over the subset's runs, and
   * of its first run alone (the one-run protocol, from the same retrainings).
   */
  private record Truth(double[][] mean, double[][] firstRun) {}

  /** {@code specs} as {@link #subsetSpecs} orders them. */
  private Truth outputs(List<RetrainSpec> specs, int subsets, int targets) {
    List<RetrainResult> results = retrain(specs);
    int runs = config.seeds();
    Truth truth = new Truth(new double[subsets][targets], new double[subsets][targets]);
    for (int k = 0; k < results.size(); k++) {
      double[] output = output(results.get(k), targets);
      for (int t = 0; t < targets; t++) {
        truth.mean()[k / runs][t] += output[t] / runs;
      }
      if (k % runs == 0) {
        truth.firstRun()[k / runs] = output;
      }
    }
    return truth;
  }

  /**
   * A retrained model's output per target: the margin, or minus the summed loss for the aggregate
   * target.
   */
  private double[] output(RetrainResult r, int targets) {
    double[] out = new double[targets];
    if (targets == 1 && in.targets().size() != 1) {
      for (float l : r.losses()) {
        out[0] -= l;
      }
    } else {
      for (int t = 0; t < targets; t++) {
        out[t] = r.margins()[t];
      }
    }
    return out;
  }

  private List<RetrainResult> retrain(List<RetrainSpec> specs) {
    return in.train() != null
        ? retrainer.run(in.train(), in.targets(), specs, retrainDir)
        : retrainer.runDistributed(
            in.distributed(), in.positions(), in.targets(), specs, retrainDir);
  }

  /** Groups by value per example, highest first (ties by group id). */
  private static List<Row> ranked(List<Row> values) {
    List<Row> sorted = new ArrayList<>(values);
    sorted.sort(
        Comparator.<Row>comparingDouble(r -> -r.getDouble(2)).thenComparingLong(r -> r.getLong(0)));
    return sorted;
  }

  private void removal(Attribution a, GroupIndex gi, List<Row> values, Fidelity result) {
    int n = in.trainSize();
    int seeds = config.removalSeeds();
    List<RetrainSpec> specs = new ArrayList<>();
    for (int s = 0; s < seeds; s++) {
      specs.add(new RetrainSpec("full-s" + s, Subsets.all(n), pairedSeed(s)));
    }
    List<Row> order = ranked(values);
    List<Double> fractions = config.removalFractions();
    long[] removedCounts = new long[fractions.size()];
    for (int f = 0; f < fractions.size(); f++) {
      // Whole groups, best first, until the fraction of examples is gone (the last group may
      // overshoot).
      long budget = (long) Math.ceil(fractions.get(f) * n);
      List<Integer> chosen = new ArrayList<>();
      long removed = 0;
      for (Row r : order) {
        if (removed >= budget) {
          break;
        }
        int g = Arrays.binarySearch(gi.groupIds, r.getLong(0));
        chosen.add(g);
        removed += gi.sizes[g];
      }
      removedCounts[f] = removed;
      int[] gone = gi.rowsOf(chosen.stream().mapToInt(Integer::intValue).toArray());
      int[] kept = Subsets.complement(n, gone);
      int[] randomKept =
          Subsets.complement(
              n, Subsets.sample(n, (int) removed, Seeds.mix(config.seed(), 3), removed));
      for (int s = 0; s < seeds; s++) {
        specs.add(new RetrainSpec("rm-" + a.tag() + "-f" + f + "-s" + s, kept, pairedSeed(s)));
        specs.add(new RetrainSpec("rmrand-n" + removed + "-s" + s, randomKept, pairedSeed(s)));
      }
    }
    List<RetrainResult> r = retrain(specs);
    double[] fullLoss = new double[seeds];
    double[] fullAcc = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      fullLoss[s] = r.get(s).meanLoss();
      fullAcc[s] = r.get(s).accuracy();
    }
    result.removal.add(row(0, "none", 0, fullLoss, fullAcc));
    double effect = 0;
    double randomEffect = 0;
    for (int f = 0; f < fractions.size(); f++) {
      double[] al = new double[seeds];
      double[] aa = new double[seeds];
      double[] rl = new double[seeds];
      double[] ra = new double[seeds];
      for (int s = 0; s < seeds; s++) {
        RetrainResult attributed = r.get(seeds + f * 2 * seeds + 2 * s);
        RetrainResult random = r.get(seeds + f * 2 * seeds + 2 * s + 1);
        al[s] = attributed.meanLoss();
        aa[s] = attributed.accuracy();
        rl[s] = random.meanLoss();
        ra[s] = random.accuracy();
      }
      result.removal.add(row(fractions.get(f), "attributed", removedCounts[f], al, aa));
      result.removal.add(row(fractions.get(f), "random", removedCounts[f], rl, ra));
      effect += (Correlation.mean(al) - Correlation.mean(fullLoss)) / fractions.size();
      randomEffect += (Correlation.mean(rl) - Correlation.mean(fullLoss)) / fractions.size();
    }
    result.removalEffect = effect;
    result.randomRemovalEffect = randomEffect;
    log.accept(
        String.format(
            "evaluate: %s removal effect %+.4f target loss (random removal %+.4f; mean over %d fractions, %d seeds)",
            a.tag(), effect, randomEffect, fractions.size(), seeds));
  }

  private static RemovalRow row(
      double fraction, String strategy, long removed, double[] loss, double[] acc) {
    return new RemovalRow(
        fraction,
        strategy,
        removed,
        loss.length,
        Correlation.mean(loss),
        Correlation.std(loss),
        Correlation.mean(acc),
        Correlation.std(acc));
  }

  private void loo(Attribution a, GroupIndex gi, List<Row> values, Fidelity result) {
    int n = in.trainSize();
    int seeds = config.removalSeeds();
    int count = Math.min(config.looGroups(), gi.count());
    int[] chosen = Subsets.sample(gi.count(), count, Seeds.mix(config.seed(), 4), 0);
    List<RetrainSpec> specs = new ArrayList<>();
    for (int s = 0; s < seeds; s++) {
      specs.add(new RetrainSpec("full-s" + s, Subsets.all(n), pairedSeed(s)));
    }
    for (int g : chosen) {
      int[] kept = Subsets.complement(n, gi.rowsOf(new int[] {g}));
      for (int s = 0; s < seeds; s++) {
        specs.add(
            new RetrainSpec(
                "loo-" + a.tag() + "-g" + gi.groupIds[g] + "-s" + s, kept, pairedSeed(s)));
      }
    }
    List<RetrainResult> r = retrain(specs);
    double full = 0;
    for (int s = 0; s < seeds; s++) {
      full += sum(r.get(s).losses()) / seeds;
    }
    Map<Long, Double> value = new java.util.HashMap<>();
    for (Row v : values) {
      value.put(v.getLong(0), v.getDouble(1));
    }
    double[] predicted = new double[count];
    double[] actual = new double[count];
    for (int k = 0; k < count; k++) {
      double without = 0;
      for (int s = 0; s < seeds; s++) {
        without += sum(r.get(seeds + k * seeds + s).losses()) / seeds;
      }
      long id = gi.groupIds[chosen[k]];
      predicted[k] = value.get(id);
      actual[k] = without - full;
      result.loo.add(new LooRow(id, gi.sizes[chosen[k]], predicted[k], actual[k]));
    }
    result.looPearson = Correlation.pearson(predicted, actual);
    result.looSpearman = Correlation.spearman(predicted, actual);
    log.accept(
        String.format(
            "evaluate: %s leave-one-group-out over %d groups: Pearson %.4f, Spearman %.4f",
            a.tag(), count, result.looPearson, result.looSpearman));
  }

  private static double sum(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x;
    }
    return s;
  }
}
