package dev.ggda.attribution;

import dev.ggda.config.AttributeConfig;
import dev.ggda.config.HessianMode;
import dev.ggda.data.LoadedData;
import dev.ggda.featurize.FeaturizeStage;
import dev.ggda.math.CholeskySolver;
import dev.ggda.model.TrainedModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Driver side of every method: turns the reduced kernel or Hessian and the target features into the
 * {@link ScoreOperator} the executors apply. All solves in float64.
 *
 * <ul>
 *   <li>TRAK, member m: v_m = -(K_m + lambda I)^{-1} phi' / M (psi_G = -loss feature);
 *   <li>TracIn: v_t = eta_t P^T grad l(z'; theta_t);
 *   <li>GradDot / GradCos: v = P^T grad l(z') (normalised for GradCos);
 *   <li>IF: v = (1/n) (H + delta I)^{-1} grad l(z'), H the Gauss-Newton Hessian of the training
 *       objective (parameter space for exact/cg, projected space for projected), or for group its
 *       batched empirical Fisher (1/n) sum_G g_G g_G^T / |G| + l2 I.
 * </ul>
 */
final class OperatorBuilder {
  /** Largest k for which a k x k self-influence metric is broadcast (~64 MB of float32). */
  static final int SELF_MATRIX_LIMIT = 4096;

  static final String NOT_ASKED = "self-influence was not asked for";

  private final AttributeConfig config;
  private final TrainedModel model;
  private final FeaturizeStage.Slots slots;
  private final FeaturizeStage.Featurized features;
  private final TargetFeatures targets;
  private final int k;
  private final long n;
  private final Consumer<String> log;

  /** False when the caller never reads self-influence: no k x k inverse is formed or broadcast. */
  private final boolean selfInfluence;

  /** The largest damping any solve used; NaN until something is inverted. */
  private double dampingUsed = Double.NaN;

  /** Each factorisation: what was inverted, its mean eigenvalue, the damping it took. */
  private final List<Map<String, Object>> solves = new ArrayList<>();

  /** Each group-kernel fill: the kernel's trace, the examples' trace and what was added. */
  private final List<Map<String, Object>> fills = new ArrayList<>();

  private String selfNote = "";
  private double[] hessian;

  /** TRAK group kernel: each slot's per-example kernel trace, sum_i |grad f_i|^2; else null. */
  private double[] exampleTraces;

  OperatorBuilder(
      AttributeConfig config,
      TrainedModel model,
      FeaturizeStage.Slots slots,
      FeaturizeStage.Featurized features,
      TargetFeatures targets,
      int k,
      long n,
      Consumer<String> log,
      boolean selfInfluence) {
    this.config = config;
    this.model = model;
    this.slots = slots;
    this.features = features;
    this.targets = targets;
    this.k = k;
    this.n = n;
    this.log = log;
    this.selfInfluence = selfInfluence;
  }

  /** The same features, target features and Hessian, with other dampings (a fresh builder). */
  OperatorBuilder withDamping(double damping, double relativeDamping) {
    AttributeConfig c = config.withDamping(damping, relativeDamping);
    OperatorBuilder out =
        new OperatorBuilder(c, model, slots, features, targets, k, n, log, selfInfluence);
    out.hessian = hessian;
    out.exampleTraces = exampleTraces;
    return out;
  }

  /** Whether {@link #build} fills the kernel with the within-group spread (TRAK, group kernel). */
  boolean fillsGroupKernel() {
    return config.method() == dev.ggda.config.AttributionMethod.TRAK
        && config.kernel() == dev.ggda.config.KernelMode.GROUP;
  }

  /** TRAK group kernel: the per-example kernel traces it is filled up to, from the executors. */
  void exampleTraces(LoadedData train) {
    exampleTraces = KernelTrace.exampleSums(train.examples(), model.architecture(), slots.params());
  }

  double dampingUsed() {
    return dampingUsed;
  }

  String selfNote() {
    return selfNote;
  }

  /**
   * The factorisations of the last {@link #build}, in order (empty for methods that invert
   * nothing).
   */
  List<Map<String, Object>> solves() {
    return List.copyOf(solves);
  }

  /** The group-kernel fills of the last {@link #build} (empty unless TRAK's kernel is group). */
  List<Map<String, Object>> fills() {
    return List.copyOf(fills);
  }

  /** IF exact: the dense Gauss-Newton Hessian sum over the training data, from the executors. */
  void parameterSpaceHessian(LoadedData train, int partitions) {
    if (config.hessian() == HessianMode.EXACT) {
      hessian =
          HessianStage.exact(
              train.examples(),
              model.architecture(),
              model.finalCheckpoint(0).params(),
              partitions);
    }
  }

  /** IF exact: a Hessian sum computed earlier for the same model and training data. */
  void parameterSpaceHessian(double[] sum) {
    hessian = sum;
  }

  /** The parameter-space Hessian sum this builder holds (IF exact), or null. */
  double[] parameterSpaceHessian() {
    return hessian;
  }

  ScoreOperator build() {
    return switch (config.method()) {
      case TRAK -> trak();
      case TRACIN -> linear(true, false);
      case GRADDOT -> linear(false, false);
      case GRADCOS -> linear(false, true);
      case IF -> influence();
    };
  }

  private ScoreOperator trak() {
    int members = slots.size();
    int t = targets.targets();
    float[][] v = new float[members][];
    float[][] self = new float[members][];
    double[] weight = new double[members];
    for (int s = 0; s < members; s++) {
      double[] kernel = features.kernel[s].clone();
      if (config.kernel() == dev.ggda.config.KernelMode.SAMPLED && features.kernelRows[s] > 0) {
        double scale = (double) n / features.kernelRows[s];
        for (int i = 0; i < kernel.length; i++) {
          kernel[i] *= scale;
        }
      }
      if (exampleTraces != null && features.kernelRows[s] < n) {
        fillWithinGroups(kernel, exampleTraces[s], s);
      }
      CholeskySolver solver = factor(kernel, "TRAK kernel of member " + s);
      double[] x = AttributionStage.solveColumns(solver, targets.margin[s], t, k);
      v[s] = toRowMajor(x, t, -1.0 / members);
      boolean withSelf = selfInfluence && k <= SELF_MATRIX_LIMIT;
      self[s] = withSelf ? inverse(solver) : null;
      weight[s] = -1.0 / members;
    }
    boolean withSelf = selfInfluence && k <= SELF_MATRIX_LIMIT;
    if (!selfInfluence) {
      selfNote = NOT_ASKED;
    } else if (!withSelf) {
      selfNote =
          "self-influence needs a "
              + k
              + " x "
              + k
              + " inverse kernel on every executor; not computed for k > "
              + SELF_MATRIX_LIMIT;
    }
    return ScoreOperator.trak(k, targets.ids, v, withSelf ? self : null, weight);
  }

  /**
   * Adds the trace the group kernel lacks, (sum_i |phi_i|^2 - tr K) / k, to its diagonal: summing a
   * group before the outer product drops the spread of its members' gradients, whose trace is known
   * from the per-example norms; it is spread evenly over the k directions.
   */
  private void fillWithinGroups(double[] kernel, double exampleTrace, int slot) {
    double trace = 0;
    for (int i = 0; i < k; i++) {
      trace += kernel[i * k + i];
    }
    double fill = Math.max(0, exampleTrace - trace) / k;
    for (int i = 0; i < k; i++) {
      kernel[i * k + i] += fill;
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("of", "TRAK group kernel of member " + slot);
    f.put("group_trace", trace);
    f.put("example_trace", exampleTrace);
    f.put("within_group_fill", fill);
    fills.add(f);
    log.accept(
        String.format(
            "attribute: group kernel of member %d: trace %.4g of the examples' %.4g; the rest added"
                + " as %.4g I",
            slot, trace, exampleTrace, fill));
  }

  /** TracIn (eta-weighted checkpoints), GradDot, GradCos: no solve. */
  private ScoreOperator linear(boolean tracin, boolean cosine) {
    int s = slots.size();
    int t = targets.targets();
    float[][] v = new float[s][];
    double[] weight = new double[s];
    for (int i = 0; i < s; i++) {
      double eta =
          tracin ? model.members().get(0).get(slots.checkpointIndex(i)).learningRate() : 1.0;
      float[] rows = targets.loss[i].clone();
      if (cosine) {
        normaliseRows(rows, t);
      }
      double[] x = new double[rows.length];
      for (int j = 0; j < rows.length; j++) {
        x[j] = rows[j];
      }
      v[i] = toRowMajor(x, t, eta);
      weight[i] = eta;
    }
    return ScoreOperator.linear(k, targets.ids, v, weight, cosine, selfInfluence);
  }

  private ScoreOperator influence() {
    int t = targets.targets();
    double[] h;
    if (config.hessian() == HessianMode.PROJECTED || config.hessian() == HessianMode.GROUP) {
      h = features.kernel[0].clone();
      // P^T (lambda I) P: exactly lambda I without projection; its expectation (p/k) lambda I
      // otherwise
      // (the diagonal of P^T P is exactly p/k for rademacher entries).
      long p = model.architecture().paramCount();
      double ridge = k == p ? model.l2() : model.l2() * p / k;
      scaleAndRidge(h, 1.0 / n, ridge);
    } else if (config.hessian() == HessianMode.EXACT) {
      h = hessian.clone();
      scaleAndRidge(h, 1.0 / n, model.l2());
    } else {
      throw new IllegalStateException("cg is solved by ConjugateGradientInfluence");
    }
    CholeskySolver solver = factor(h, "Hessian");
    double[] x = AttributionStage.solveColumns(solver, targets.loss[0], t, k);
    float[] v = toRowMajor(x, t, 1.0 / n);
    boolean withSelf = selfInfluence && k <= SELF_MATRIX_LIMIT;
    float[] self = null;
    if (withSelf) {
      self = inverse(solver);
    } else if (!selfInfluence) {
      selfNote = NOT_ASKED;
    } else {
      selfNote =
          "self-influence needs the inverse Hessian on every executor; not computed for k > "
              + SELF_MATRIX_LIMIT;
    }
    return ScoreOperator.influence(k, targets.ids, v, self, 1.0 / n);
  }

  /** Factors a + (damping + relative_damping x mean eigenvalue) I. */
  private CholeskySolver factor(double[] a, String what) {
    // The scale a damping is judged against: the mean eigenvalue (trace / k) of what is inverted.
    double trace = 0;
    for (int i = 0; i < k; i++) {
      trace += a[i * k + i];
    }
    double mean = trace / k;
    double damping = config.damping() + config.relativeDamping() * mean;
    log.accept(
        String.format(
            "attribute: %s: mean eigenvalue %.4g; damping %.4g = %.3g x mean",
            what, mean, damping, damping / Math.max(mean, Double.MIN_NORMAL)));
    CholeskySolver solver = CholeskySolver.factor(a, k, damping);
    if (solver.damping() > damping) {
      log.accept(
          String.format(
              "warning: the %s is singular or ill-conditioned; damped with %.3g instead of %.3g"
                  + " (set attribute.damping to choose)",
              what, solver.damping(), damping));
    }
    dampingUsed =
        Double.isNaN(dampingUsed) ? solver.damping() : Math.max(dampingUsed, solver.damping());
    Map<String, Object> solve = new LinkedHashMap<>();
    solve.put("of", what);
    solve.put("mean_eigenvalue", mean);
    solve.put("damping_requested", damping);
    solve.put("damping", solver.damping());
    solves.add(solve);
    return solver;
  }

  private static void scaleAndRidge(double[] h, double scale, double ridge) {
    int p = (int) Math.round(Math.sqrt(h.length));
    for (int i = 0; i < h.length; i++) {
      h[i] *= scale;
    }
    for (int i = 0; i < p; i++) {
      h[i * p + i] += ridge;
    }
  }

  private float[] inverse(CholeskySolver solver) {
    double[] id = new double[k * k];
    for (int i = 0; i < k; i++) {
      id[i * k + i] = 1;
    }
    double[] inv = solver.solve(id, k);
    float[] out = new float[inv.length];
    for (int i = 0; i < inv.length; i++) {
      out[i] = (float) inv[i];
    }
    return out;
  }

  /** (k x T) column-major, scaled, to (k x T) row-major float. */
  private float[] toRowMajor(double[] colMajor, int t, double scale) {
    float[] out = new float[k * t];
    for (int j = 0; j < t; j++) {
      for (int i = 0; i < k; i++) {
        out[i * t + j] = (float) (colMajor[j * k + i] * scale);
      }
    }
    return out;
  }

  private void normaliseRows(float[] rows, int t) {
    for (int j = 0; j < t; j++) {
      double s = 0;
      for (int i = 0; i < k; i++) {
        s += (double) rows[j * k + i] * rows[j * k + i];
      }
      double norm = Math.max(Math.sqrt(s), 1e-30);
      for (int i = 0; i < k; i++) {
        rows[j * k + i] = (float) (rows[j * k + i] / norm);
      }
    }
  }
}
