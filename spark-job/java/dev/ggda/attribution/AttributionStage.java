package dev.ggda.attribution;

import dev.ggda.InputException;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.ComputeDevice;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionKind;
import dev.ggda.config.TargetMode;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.featurize.BlockFeatures;
import dev.ggda.featurize.FeatureCheckpoint;
import dev.ggda.featurize.FeaturizeBackends;
import dev.ggda.featurize.FeaturizeStage;
import dev.ggda.featurize.IncrementalFeaturize;
import dev.ggda.math.Architecture;
import dev.ggda.math.CholeskySolver;
import dev.ggda.math.Featurizer;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Attribution (DESIGN.md sections 3 and 5, steps 4-6): featurize the groups on the executors,
 * reduce the kernel or Hessian and solve on the driver in float64, featurize the targets, and score
 * blockwise on the executors. Every method is reduced to the same executor-side product score(G, t)
 * = sum_s F_s[G] . v_s[:, t]; only the driver-side operator v differs.
 */
public final class AttributionStage {
  /** Stacked gradient values a featurize block may hold (float32, off-heap): 512 MB. */
  static final long BLOCK_VALUES = 128L << 20;

  private final AttributeConfig config;
  private final ComputeDevice device;
  private final Consumer<String> log;
  private final boolean selfInfluence;

  /**
   * IF exact: the parameter-space Hessian sum of the last prepare, with the model and training data
   * it was summed over. It does not depend on the grouping, so a stage reused for another grouping
   * of the same data (the evaluate grid) sums it once instead of once per cell (~2 min on FMNIST
   * LR).
   */
  private SummedHessian summedHessian;

  /**
   * Where prepare and withDamping record their steps' time ({@link #timedBy}); unread by default.
   */
  private StageClock clock = new StageClock();

  /** incremental.store and the grouping's name in its key, or null: featurize every row. */
  private String store;

  private String grouping;

  /** A parameter-space Hessian sum, what it was summed over, and what summing it took. */
  private record SummedHessian(
      TrainedModel model, LoadedData train, double[] sum, double seconds) {}

  /** A stage whose executors featurize where compute.device's default (auto) puts them. */
  public AttributionStage(AttributeConfig config, Consumer<String> log) {
    this(config, ComputeDevice.AUTO, log);
  }

  /**
   * @param device compute.device: where executors featurize
   */
  public AttributionStage(AttributeConfig config, ComputeDevice device, Consumer<String> log) {
    this(config, device, log, true);
  }

  private AttributionStage(
      AttributeConfig config, ComputeDevice device, Consumer<String> log, boolean selfInfluence) {
    this.config = config;
    this.device = device;
    this.log = log;
    this.selfInfluence = selfInfluence;
  }

  /**
   * The same stage without self-influence, for callers that never read it (evaluate): TRAK and IF
   * then skip the k x k inverse on the driver and the m x k x k product on the executors, which for
   * per-example TRAK cost more than the scores.
   */
  public AttributionStage withoutSelfInfluence() {
    return new AttributionStage(config, device, log, false);
  }

  /** Featurized groups plus the solved operator: everything scoring needs. */
  public static final class Prepared {
    public final JavaRDD<BlockFeatures> blocks;
    public final ScoreOperator operator;
    public final int k;

    /**
     * The largest damping a solve used (automatic extra damping included); NaN when nothing was
     * inverted.
     */
    public final double dampingUsed;

    public final String selfInfluenceNote;

    /**
     * What ran, for run.json "attribution": method, kernel and Hessian in effect (per-example TRAK
     * uses the exact kernel whatever was configured), projection and k, damping, and every solve.
     */
    public final Map<String, Object> effective = new LinkedHashMap<>();

    /** Groups featurized by this run: 0 when a resumed run read them from its checkpoint. */
    public long groupsFeaturized;

    /** run.json "incremental": what the feature store gave and took, or null without one. */
    public Map<String, Object> incremental;

    /** Rebuilds the operator with another damping from the same features; null for hessian: cg. */
    private final OperatorBuilder builder;

    Prepared(
        JavaRDD<BlockFeatures> blocks,
        ScoreOperator operator,
        int k,
        double dampingUsed,
        String selfNote) {
      this(blocks, operator, k, dampingUsed, selfNote, null);
    }

    private Prepared(
        JavaRDD<BlockFeatures> blocks,
        ScoreOperator operator,
        int k,
        double dampingUsed,
        String selfNote,
        OperatorBuilder builder) {
      this.blocks = blocks;
      this.operator = operator;
      this.k = k;
      this.dampingUsed = dampingUsed;
      this.selfInfluenceNote = selfNote;
      this.builder = builder;
    }

    private void recordSolves(List<Map<String, Object>> solves) {
      effective.remove("damping");
      if (!Double.isNaN(dampingUsed)) {
        effective.put("damping", dampingUsed);
      }
      effective.put("solves", solves);
    }

    private void recordFills(List<Map<String, Object>> fills) {
      if (!fills.isEmpty()) {
        effective.put("group_kernel_fills", fills);
      }
    }

    /**
     * True when {@link AttributionStage#withDamping} can reuse these features (every mode but
     * hessian: cg).
     */
    public boolean rebuildable() {
      return builder != null;
    }
  }

  /**
   * Featurizes against the feature store at {@code store} (incremental.store): only input files it
   * has not seen for this model and these settings; {@code grouping} names what a group key means
   * (it is part of the store's key).
   */
  public AttributionStage storingIn(String store, String grouping) {
    this.store = store;
    this.grouping = grouping;
    return this;
  }

  /**
   * Records the time of the steps of every later prepare and solve into {@code clock}: the stage is
   * kept across groupings (it reuses the IF exact Hessian), so each caller's cell gets its own
   * clock.
   */
  public AttributionStage timedBy(StageClock clock) {
    this.clock = clock;
    return this;
  }

  /**
   * The same featurized groups (shared, not copied) with the operator solved again for another
   * damping: a damping sweep pays featurize once. The clock gets the new solve and, for the IF
   * exact Hessian, its sum as reused work.
   */
  public Prepared withDamping(Prepared p, double damping, double relativeDamping) {
    if (p.builder == null) {
      throw new IllegalStateException(
          "hessian: cg solves with its damping inside; featurize again for another one");
    }
    long t0 = System.nanoTime();
    OperatorBuilder ob = p.builder.withDamping(damping, relativeDamping);
    ScoreOperator op = ob.build();
    Prepared out = new Prepared(p.blocks, op, p.k, ob.dampingUsed(), ob.selfNote(), ob);
    out.effective.putAll(p.effective);
    out.recordSolves(ob.solves());
    out.recordFills(ob.fills());
    out.groupsFeaturized = p.groupsFeaturized;
    out.incremental = p.incremental;
    clock.add(StageClock.SOLVE, (System.nanoTime() - t0) / 1e9);
    if (config.method() == AttributionMethod.IF
        && config.hessian() == HessianMode.EXACT
        && summedHessian != null) {
      clock.add(StageClock.REUSED, summedHessian.seconds());
    }
    return out;
  }

  /** How many model slots (members or checkpoints) the method featurizes against. */
  public static int modelSlots(AttributionMethod method, TrainedModel model) {
    return slots(method, model).size();
  }

  /** The model slots a method reads: TRAK all members' final models, TracIn all checkpoints. */
  static FeaturizeStage.Slots slots(AttributionMethod method, TrainedModel model) {
    List<Checkpoint> chosen = new ArrayList<>();
    switch (method) {
      case TRAK -> {
        for (int m = 0; m < model.memberCount(); m++) {
          chosen.add(model.finalCheckpoint(m));
        }
      }
      case TRACIN -> chosen.addAll(model.members().get(0));
      default -> chosen.add(model.finalCheckpoint(0));
    }
    int[] member = chosen.stream().mapToInt(Checkpoint::member).toArray();
    int[] index = chosen.stream().mapToInt(Checkpoint::index).toArray();
    float[][] params = chosen.stream().map(Checkpoint::params).toArray(float[][]::new);
    return new FeaturizeStage.Slots(member, index, params);
  }

  /** The most parameters a dense parameter-space Hessian is formed for (3.2 GB in float64). */
  static final long DENSE_HESSIAN_PARAMS = 20_000;

  /**
   * Projection actually used: influence functions in exact/cg mode work in parameter space, and
   * with the group Hessian wherever the dense Hessian fits.
   */
  ProjectionKind projectionKind(Architecture arch) {
    if (config.method() == AttributionMethod.IF) {
      switch (config.hessian()) {
        case EXACT, CG -> {
          return ProjectionKind.NONE;
        }
        case GROUP -> {
          if (arch.paramCount() <= DENSE_HESSIAN_PARAMS) {
            return ProjectionKind.NONE;
          }
        }
        default -> {}
      }
    }
    return config.projection().kind();
  }

  /**
   * The second-moment matrix featurize sums for this method: TRAK's kernel, or IF's projected
   * Gauss-Newton matrix.
   */
  Featurizer.Moment moment() {
    if (config.method() == AttributionMethod.TRAK) {
      return switch (config.kernel()) {
        case EXACT -> Featurizer.Moment.EXAMPLES;
        case BATCHED -> Featurizer.Moment.GROUP_SUMS;
        case SAMPLED -> Featurizer.Moment.SAMPLED_EXAMPLES;
        case GROUP -> Featurizer.Moment.GROUP_ROWS;
      };
    }
    if (config.method() == AttributionMethod.IF) {
      return switch (config.hessian()) {
        case PROJECTED -> Featurizer.Moment.GAUSS_NEWTON;
        case GROUP -> Featurizer.Moment.GROUP_FISHER;
        default -> Featurizer.Moment.NONE;
      };
    }
    return Featurizer.Moment.NONE;
  }

  /**
   * TRAK's chi_G, the summed margin gradients: a second projected row per group, which the group
   * kernel does without (it estimates chi_G from the loss row and the Q sum).
   */
  private boolean marginSums() {
    return config.method() == AttributionMethod.TRAK && config.kernel() != KernelMode.GROUP;
  }

  /** Rows of one forward/backward pass: bounded so that per-example rows x p stay ~128 MB. */
  public static int passRows(long params) {
    return (int) Math.max(16, Math.min(4096, (32L << 20) / params));
  }

  /** Groups per featurize block for p parameters. */
  static int groupsPerBlock(long params, boolean margin, long groupIdBound) {
    int rowsPerGroup = margin ? 2 : 1;
    long byMemory = Math.max(1, Math.min(4096, BLOCK_VALUES / (params * rowsPerGroup)));
    // Few big blocks: each block's projection is one GEMM against all of P, and BLAS repacks P for
    // every GEMM, so a block of 16 rows costs nearly as much as one of 500 (measured: 0.7 s vs 1.5
    // s
    // at p = 101,770, k = 2,048). Enough blocks for the stacked rows (~1,024 rows each), an even
    // number so that two or more cores share them evenly, and never more than memory allows. The
    // count depends on the group ids only, never on the partitioning (determinism).
    long groups = Math.max(1, groupIdBound);
    long blocks =
        Math.max(
            (groups + byMemory - 1) / byMemory,
            (groups * rowsPerGroup + BLOCK_ROWS - 1) / BLOCK_ROWS);
    if (blocks > 1 || groups > 1) {
      blocks += blocks % 2;
    }
    blocks = Math.min(blocks, groups);
    return (int) Math.max(1, Math.min(byMemory, (groups + blocks - 1) / blocks));
  }

  /** 1 + the largest group id (ids are dense from 0, so this is the group count). */
  static long groupIdBound(Dataset<Row> groups) {
    Row r = groups.agg(org.apache.spark.sql.functions.max(Columns.GROUP_ID)).first();
    return r.isNullAt(0) ? 0 : r.getLong(0) + 1;
  }

  /** Stacked gradient rows a featurize block aims at. */
  static final int BLOCK_ROWS = 1024;

  public Prepared prepare(
      LoadedData train,
      Dataset<Row> groups,
      LoadedData targets,
      TrainedModel model,
      long trainRows,
      int partitions) {
    return prepare(
        train,
        groups,
        featurizeTargets(targets, model, trainRows, partitions),
        model,
        trainRows,
        partitions);
  }

  /**
   * Target features (per-example path), computed once and reusable for any grouping of the same
   * training set and model (the benchmark does this: targets do not depend on the groups).
   */
  public TargetFeatures featurizeTargets(
      LoadedData targets, TrainedModel model, long trainRows, int partitions) {
    Featurizer.Spec spec = spec(model.architecture(), trainRows);
    long t0 = System.nanoTime();
    FeaturizeBackends.checkLocal(device, targets.examples().sparkSession().sparkContext().master());
    TargetFeatures tf =
        TargetFeatures.compute(
            targets.examples(),
            model.architecture(),
            slots(config.method(), model),
            spec,
            partitions,
            device);
    log.accept(
        String.format(
            "featurize: %,d targets in %.1f s", tf.targets(), (System.nanoTime() - t0) / 1e9));
    return config.target() == TargetMode.AGGREGATE ? tf.aggregate() : tf;
  }

  /** The featurize spec; rejects settings the model cannot take before any work starts. */
  private Featurizer.Spec spec(Architecture arch, long trainRows) {
    long p = arch.paramCount();
    ProjectionKind kind = projectionKind(arch);
    int requested = kind == ProjectionKind.NONE ? Math.toIntExact(p) : config.projection().dim();
    if (kind != ProjectionKind.NONE && requested > p) {
      throw new InputException(
          "attribute.projection.dim "
              + requested
              + " exceeds the model's "
              + p
              + " parameters; set attribute.projection.dim <= "
              + p
              + " or attribute.projection.kind: none");
    }
    if (kind == ProjectionKind.NONE
        && p > DENSE_HESSIAN_PARAMS
        && config.method() == AttributionMethod.IF
        && (config.hessian() == HessianMode.EXACT || config.hessian() == HessianMode.GROUP)) {
      String fix =
          config.hessian() == HessianMode.EXACT
              ? "use attribute.hessian: cg, projected or group"
              : "set attribute.projection.kind (the group Hessian is then formed in projected space)";
      throw new InputException(
          "attribute.hessian: "
              + ConfigLoader.yamlName(config.hessian())
              + " needs a dense "
              + p
              + " x "
              + p
              + " Hessian (limit "
              + DENSE_HESSIAN_PARAMS
              + " parameters); "
              + fix);
    }
    double sampleFraction = Math.min(1.0, SAMPLED_KERNEL_ROWS / (double) trainRows);
    return new Featurizer.Spec(
        kind,
        requested,
        config.projection().seed(),
        config.method() == AttributionMethod.TRAK,
        moment(),
        sampleFraction,
        config.projection().seed() ^ 0x5A4D_504CL,
        passRows(p));
  }

  public Prepared prepare(
      LoadedData train,
      Dataset<Row> groups,
      TargetFeatures tf,
      TrainedModel model,
      long trainRows,
      int partitions) {
    return prepare(train, groups, tf, model, trainRows, partitions, null);
  }

  /**
   * @param checkpointDir where the featurized groups are saved (and read back when a checkpoint is
   *     already complete there: output.mode resume), or null
   */
  public Prepared prepare(
      LoadedData train,
      Dataset<Row> groups,
      TargetFeatures tf,
      TrainedModel model,
      long trainRows,
      int partitions,
      String checkpointDir) {
    if (config.method() == AttributionMethod.TRAK
        && config.kernel() != dev.ggda.config.KernelMode.EXACT
        && groupIdBound(groups) >= trainRows) {
      // Per-example mode: every example's row is featurized anyway, so the exact kernel costs no
      // more than the batched or sampled one (which only save work for groups) and is the better
      // estimate (FMNIST LR: LDS 0.363 exact, 0.291 sampled).
      log.accept(
          "featurize: every group is one example: TRAK uses the exact kernel (attribute.kernel "
              + config.kernel().toString().toLowerCase(java.util.Locale.ROOT)
              + " applies to groups)");
      AttributeConfig exact =
          new AttributeConfig(
              config.method(),
              config.projection(),
              dev.ggda.config.KernelMode.EXACT,
              config.hessian(),
              config.damping(),
              config.target(),
              config.relativeDamping());
      Prepared out =
          new AttributionStage(exact, device, log, selfInfluence)
              .timedBy(clock)
              .storingIn(store, grouping)
              .prepare(train, groups, tf, model, trainRows, partitions, checkpointDir);
      out.effective.put("kernel_configured", ConfigLoader.yamlName(config.kernel()));
      out.effective.put(
          "kernel_note",
          "every group is one example: the exact kernel costs no more and is the better estimate");
      return out;
    }
    Architecture arch = model.architecture();
    long p = arch.paramCount();
    ProjectionKind kind = projectionKind(arch);
    Featurizer.Moment kernel = moment();
    // Targets always need their margin features (TRAK's phi_t); the groups not with the group
    // kernel.
    Featurizer.Spec spec = spec(arch, trainRows).withMarginSums(marginSums());
    int k = Featurizer.featureDim(arch, spec);
    FeaturizeStage.Slots slots = slots(config.method(), model);
    log.accept(
        String.format(
            "featurize: %s, %d slot(s), projection %s k=%d, kernel %s, compute.device %s",
            config.method(),
            slots.size(),
            kind,
            k,
            kernel,
            device.name().toLowerCase(java.util.Locale.ROOT)));
    long t0 = System.nanoTime();
    org.apache.spark.sql.SparkSession spark = train.examples().sparkSession();
    FeaturizeStage.Featurized features;
    long featurized;
    Map<String, Object> incremental = null;
    long groupBound = groupIdBound(groups);
    int gpb = groupsPerBlock(kind == ProjectionKind.FACTORED ? k : p, marginSums(), groupBound);
    if (store != null) {
      FeaturizeBackends.checkLocal(device, spark.sparkContext().master());
      IncrementalFeaturize.Result r =
          IncrementalFeaturize.run(
              store,
              train,
              groups,
              new IncrementalFeaturize.Inputs(
                  arch, slots, spec, k, gpb, groupBound, partitions, device, grouping),
              log);
      features = r.features();
      featurized = r.groupsFeaturized();
      incremental = r.report();
    } else if (checkpointDir != null
        && FeatureCheckpoint.exists(checkpointDir, spark.sparkContext().hadoopConfiguration())) {
      features = FeatureCheckpoint.load(spark, checkpointDir, partitions);
      featurized = 0;
      log.accept(
          String.format(
              "featurize: resumed %,d featurized groups from %s", features.groups, checkpointDir));
    } else {
      FeaturizeBackends.checkLocal(device, spark.sparkContext().master());
      features =
          FeaturizeStage.run(train.examples(), groups, arch, slots, spec, gpb, partitions, device);
      featurized = features.groups;
      if (checkpointDir != null) {
        FeatureCheckpoint.save(spark, features, slots.size(), k, checkpointDir);
      }
    }
    double featurizeSecs = (System.nanoTime() - t0) / 1e9;
    log.accept(String.format("featurize: %,d groups in %.1f s", features.groups, featurizeSecs));
    clock.add(StageClock.FEATURIZE, featurizeSecs);
    double hessianBefore = clock.seconds(StageClock.HESSIAN);
    long t1 = System.nanoTime();
    double traceSecs = 0;
    Prepared out;
    if (config.method() == AttributionMethod.IF && config.hessian() == HessianMode.CG) {
      out = conjugateGradient(train, model, features, tf, k, trainRows);
      out.effective.putAll(effective(arch, k));
      Map<String, Object> solve = new LinkedHashMap<>();
      solve.put("of", "Hessian, by conjugate gradients");
      solve.put("damping", out.dampingUsed);
      out.recordSolves(List.of(solve));
    } else {
      OperatorBuilder ob =
          new OperatorBuilder(config, model, slots, features, tf, k, trainRows, log, selfInfluence);
      if (ob.fillsGroupKernel() && features.groups < trainRows) {
        long tt = System.nanoTime();
        ob.exampleTraces(train);
        traceSecs = (System.nanoTime() - tt) / 1e9;
        // A pass over every example, like featurize's: charged there.
        clock.add(StageClock.FEATURIZE, traceSecs);
        log.accept(String.format("attribute: per-example kernel trace in %.1f s", traceSecs));
      }
      if (config.method() == AttributionMethod.IF && config.hessian() == HessianMode.EXACT) {
        SummedHessian h = summedHessian;
        if (h != null && h.model() == model && h.train() == train) {
          ob.parameterSpaceHessian(h.sum());
          // Charged as if summed again: the time is what a run of this grouping alone would take.
          clock.add(StageClock.REUSED, h.seconds());
          log.accept(
              String.format(
                  "attribute: Hessian reused from the previous grouping (summing it took %.1f s)",
                  h.seconds()));
        } else {
          long h0 = System.nanoTime();
          ob.parameterSpaceHessian(train, partitions);
          summedHessian =
              new SummedHessian(
                  model, train, ob.parameterSpaceHessian(), (System.nanoTime() - h0) / 1e9);
          clock.add(StageClock.HESSIAN, summedHessian.seconds());
        }
      }
      ScoreOperator op = ob.build();
      out = new Prepared(features.blocks, op, k, ob.dampingUsed(), ob.selfNote(), ob);
      out.effective.putAll(effective(arch, k));
      out.recordSolves(ob.solves());
      out.recordFills(ob.fills());
    }
    out.groupsFeaturized = featurized;
    out.incremental = incremental;
    double driverSecs = (System.nanoTime() - t1) / 1e9;
    clock.add(
        StageClock.SOLVE,
        driverSecs - traceSecs - (clock.seconds(StageClock.HESSIAN) - hessianBefore));
    log.accept(String.format("attribute: kernel/solve in %.1f s", driverSecs));
    return out;
  }

  /** What this stage runs, for run.json: the kernel, Hessian and projection in effect. */
  private Map<String, Object> effective(Architecture arch, int k) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", ConfigLoader.yamlName(config.method()));
    if (config.method() == AttributionMethod.TRAK) {
      m.put("kernel", ConfigLoader.yamlName(config.kernel()));
    } else if (config.method() == AttributionMethod.IF) {
      m.put("hessian", ConfigLoader.yamlName(config.hessian()));
      if (config.hessian() == HessianMode.PROJECTED) {
        m.put("kernel", "gauss-newton");
      } else if (config.hessian() == HessianMode.GROUP) {
        m.put("kernel", "group-fisher");
        m.put(
            "hessian_space",
            projectionKind(arch) == ProjectionKind.NONE ? "parameter" : "projected");
      }
    }
    m.put("projection", projectionKind(arch).name().toLowerCase(java.util.Locale.ROOT));
    m.put("projection_dim", k);
    return m;
  }

  /** IF with CG: solve on the smaller side, targets or groups (k = p here: no projection). */
  private Prepared conjugateGradient(
      LoadedData train,
      TrainedModel model,
      FeaturizeStage.Featurized features,
      TargetFeatures tf,
      int p,
      long n) {
    double damping = config.damping();
    if (config.relativeDamping() > 0) {
      // H = (1/n) sum_i GN_i + l2 I: its mean eigenvalue from the exact trace (one pass, no p x p
      // matrix).
      double mean =
          HessianStage.traceSum(
                      train.examples(), model.architecture(), model.finalCheckpoint(0).params())
                  / n
                  / p
              + model.l2();
      damping += config.relativeDamping() * mean;
      log.accept(
          String.format(
              "attribute: Hessian: mean eigenvalue %.4g; damping %.4g = %.3g x mean",
              mean, damping, damping / Math.max(mean, Double.MIN_NORMAL)));
    }
    var op =
        ConjugateGradientInfluence.operator(
            train.examples(),
            model.architecture(),
            model.finalCheckpoint(0).params(),
            n,
            model.l2(),
            damping);
    int t = tf.targets();
    float[] targetRows = tf.loss[0];
    String note =
        "self-influence is not computed with hessian: cg (one more solve per group); use exact or projected";
    if (t <= features.groups) {
      double[][] rhs = new double[t][p];
      for (int j = 0; j < t; j++) {
        for (int i = 0; i < p; i++) {
          rhs[j][i] = targetRows[j * p + i];
        }
      }
      double[][] u = ConjugateGradientInfluence.solve(op, rhs, "target", log);
      float[] v = new float[p * t];
      for (int j = 0; j < t; j++) {
        for (int i = 0; i < p; i++) {
          v[i * t + j] = (float) (u[j][i] / n);
        }
      }
      return new Prepared(
          features.blocks, ScoreOperator.scoresOnly(p, tf.ids, v), p, damping, note);
    }
    List<BlockFeatures> solved =
        ConjugateGradientInfluence.solveGroups(features.blocks.collect(), op, p, log);
    features.blocks.unpersist(false);
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(train.examples().sparkSession().sparkContext());
    JavaRDD<BlockFeatures> blocks = jsc.parallelize(solved, Math.max(1, solved.size()));
    float[] v = new float[p * t];
    for (int j = 0; j < t; j++) {
      for (int i = 0; i < p; i++) {
        v[i * t + j] = (float) (targetRows[j * p + i] / (double) n);
      }
    }
    return new Prepared(blocks, ScoreOperator.scoresOnly(p, tf.ids, v), p, damping, note);
  }

  /** Examples in the TRAK `sampled` kernel. */
  public static final int SAMPLED_KERNEL_ROWS = 10_000;

  static double[] solveColumns(CholeskySolver solver, float[] rowsTk, int t, int k) {
    // rowsTk is (T x k) row-major, i.e. the (k x T) right-hand side in column-major.
    double[] b = new double[t * k];
    for (int i = 0; i < b.length; i++) {
      b[i] = rowsTk[i];
    }
    return solver.solve(b, t);
  }
}
