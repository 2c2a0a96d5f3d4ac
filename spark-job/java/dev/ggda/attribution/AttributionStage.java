package dev.ggda.attribution;

import dev.ggda.InputException;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.TargetMode;
import dev.ggda.data.LoadedData;
import dev.ggda.featurize.FeaturizeStage;
import dev.ggda.math.Architecture;
import dev.ggda.math.CholeskySolver;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Projection;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.featurize.BlockFeatures;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Attribution (DESIGN.md sections 3 and 5, steps 4-6): featurize the groups on the executors,
 * reduce the kernel or Hessian and solve on the driver in float64, featurize the targets, and
 * score blockwise on the executors. Every method is reduced to the same executor-side product
 * score(G, t) = sum_s F_s[G] . v_s[:, t]; only the driver-side operator v differs.
 */
public final class AttributionStage {
  /** Stacked gradient values a featurize block may hold (float32): ~256 MB. */
  static final long BLOCK_VALUES = 64L << 20;

  private final AttributeConfig config;
  private final Consumer<String> log;

  public AttributionStage(AttributeConfig config, Consumer<String> log) {
    this.config = config;
    this.log = log;
  }

  /** Featurized groups plus the solved operator: everything scoring needs. */
  public static final class Prepared {
    public final JavaRDD<BlockFeatures> blocks;
    public final ScoreOperator operator;
    public final int k;
    public final double dampingUsed;
    public final String selfInfluenceNote;

    Prepared(JavaRDD<BlockFeatures> blocks, ScoreOperator operator, int k, double dampingUsed, String selfNote) {
      this.blocks = blocks;
      this.operator = operator;
      this.k = k;
      this.dampingUsed = dampingUsed;
      this.selfInfluenceNote = selfNote;
    }
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

  /** Projection actually used: influence functions in exact/cg mode work in parameter space. */
  Projection.Kind projectionKind() {
    if (config.method() == AttributionMethod.IF && config.hessian() != HessianMode.PROJECTED) {
      return Projection.Kind.NONE;
    }
    return switch (config.projection().kind()) {
      case RADEMACHER -> Projection.Kind.RADEMACHER;
      case GAUSSIAN -> Projection.Kind.GAUSSIAN;
      case NONE -> Projection.Kind.NONE;
      case FACTORED -> Projection.Kind.FACTORED;
    };
  }

  Featurizer.KernelKind kernelKind() {
    if (config.method() == AttributionMethod.TRAK) {
      return switch (config.kernel()) {
        case EXACT -> Featurizer.KernelKind.EXACT;
        case BATCHED -> Featurizer.KernelKind.BATCHED;
        case SAMPLED -> Featurizer.KernelKind.SAMPLED;
      };
    }
    if (config.method() == AttributionMethod.IF && config.hessian() == HessianMode.PROJECTED) {
      return Featurizer.KernelKind.GAUSS_NEWTON;
    }
    return Featurizer.KernelKind.NONE;
  }

  /** Rows of one forward/backward pass: bounded so that per-example rows x p stay ~128 MB. */
  static int passRows(long params) {
    return (int) Math.max(16, Math.min(4096, (32L << 20) / params));
  }

  /** Groups per featurize block for p parameters. */
  static int groupsPerBlock(long params, boolean margin) {
    return (int) Math.max(1, Math.min(4096, BLOCK_VALUES / (params * (margin ? 2 : 1))));
  }

  public Prepared prepare(
      LoadedData train, Dataset<Row> groups, LoadedData targets, TrainedModel model, long trainRows, int partitions) {
    Architecture arch = model.architecture();
    long p = arch.paramCount();
    Projection.Kind kind = projectionKind();
    int requested = kind == Projection.Kind.NONE ? Math.toIntExact(p) : config.projection().dim();
    if (kind != Projection.Kind.NONE && requested > p) {
      throw new InputException("attribute.projection.dim " + requested + " exceeds the model's " + p
          + " parameters; set attribute.projection.dim <= " + p + " or attribute.projection.kind: none");
    }
    if (kind == Projection.Kind.NONE && p > 20_000 && config.method() == AttributionMethod.IF
        && config.hessian() == HessianMode.EXACT) {
      throw new InputException("attribute.hessian: exact needs a dense " + p + " x " + p
          + " Hessian (limit 20000 parameters); use attribute.hessian: cg or projected");
    }
    boolean trak = config.method() == AttributionMethod.TRAK;
    Featurizer.KernelKind kernel = kernelKind();
    double sampleFraction = Math.min(1.0, SAMPLED_KERNEL_ROWS / (double) trainRows);
    Featurizer.Spec spec = new Featurizer.Spec(kind, requested, config.projection().seed(), trak, kernel, sampleFraction,
        config.projection().seed() ^ 0x5A4D_504CL, passRows(p));
    int k = Featurizer.featureDim(arch, spec);
    FeaturizeStage.Slots slots = slots(config.method(), model);
    log.accept(String.format("featurize: %s, %d slot(s), projection %s k=%d, kernel %s", config.method(), slots.size(),
        kind, k, kernel));
    FeaturizeStage.Result features = FeaturizeStage.run(train.examples(), groups, arch, slots, spec,
        groupsPerBlock(kind == Projection.Kind.FACTORED ? k : p, trak), partitions);
    TargetFeatures tf = TargetFeatures.compute(targets.examples(), arch, slots, spec, partitions);
    if (config.target() == TargetMode.AGGREGATE) {
      tf = tf.aggregate();
    }
    if (config.method() == AttributionMethod.IF && config.hessian() == HessianMode.CG) {
      return conjugateGradient(train, model, features, tf, k, trainRows);
    }
    OperatorBuilder ob = new OperatorBuilder(config, model, slots, features, tf, k, trainRows, log);
    if (config.method() == AttributionMethod.IF && config.hessian() == HessianMode.EXACT) {
      ob.parameterSpaceHessian(train, partitions);
    }
    ScoreOperator op = ob.build();
    return new Prepared(features.blocks, op, k, ob.dampingUsed(), ob.selfNote());
  }

  /** IF with CG: solve on the smaller side, targets or groups (k = p here: no projection). */
  private Prepared conjugateGradient(LoadedData train, TrainedModel model, FeaturizeStage.Result features,
      TargetFeatures tf, int p, long n) {
    var op = ConjugateGradientInfluence.operator(train.examples(), model.architecture(), model.finalCheckpoint(0).params(),
        n, model.l2(), config.damping());
    int t = tf.targets();
    float[] targetRows = tf.loss[0];
    String note = "self-influence is not computed with hessian: cg (one more solve per group); use exact or projected";
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
      return new Prepared(features.blocks, new ScoreOperator(p, tf.ids, new float[][] {v}, false, null,
          new double[] {0}, false, false), p, config.damping(), note);
    }
    List<BlockFeatures> solved = ConjugateGradientInfluence.solveGroups(features.blocks.collect(), op, p, log);
    features.blocks.unpersist(false);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(train.examples().sparkSession().sparkContext());
    JavaRDD<BlockFeatures> blocks = jsc.parallelize(solved, Math.max(1, solved.size()));
    float[] v = new float[p * t];
    for (int j = 0; j < t; j++) {
      for (int i = 0; i < p; i++) {
        v[i * t + j] = (float) (targetRows[j * p + i] / (double) n);
      }
    }
    return new Prepared(blocks, new ScoreOperator(p, tf.ids, new float[][] {v}, false, null, new double[] {0}, false,
        false), p, config.damping(), note);
  }

  /** Examples in the TRAK `sampled` kernel. */
  static final int SAMPLED_KERNEL_ROWS = 10_000;

  static double[] solveColumns(CholeskySolver solver, float[] rowsTk, int t, int k) {
    // rowsTk is (T x k) row-major, i.e. the (k x T) right-hand side in column-major.
    double[] b = new double[t * k];
    for (int i = 0; i < b.length; i++) {
      b[i] = rowsTk[i];
    }
    return solver.solve(b, t);
  }
}
