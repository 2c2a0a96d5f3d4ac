package dev.ggda.cuda;

import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.FactoredProjection;
import dev.ggda.math.FeaturizeBackend;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Projection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link FeaturizeBackend} on a GPU: {@link Featurizer}'s computation step for step (read that
 * first), with the block's rows, the model and every intermediate on the device, and only the
 * features and kernel sums coming back. Forward, backward and projection GEMMs run in cuBLAS;
 * per-example gradients and per-group sums of outer products come from one kernel ({@code
 * outer_sums}) that writes each group's gradient row in place; P is generated on the device from
 * the same counter-based stream as the CPU's ({@link Projection#entry}) and cached within a budget.
 *
 * <p>A RADEMACHER P is kept as exact +-1 (its scale applied to the product), so the projection can
 * run on tensor cores without losing float32 accuracy: the gradient rows are split into a tf32 part
 * and an exact remainder, and both halves are multiplied by P in tf32 (two products instead of one
 * float32 product at a fraction of its speed). GAUSSIAN projections multiply in float32.
 *
 * <p>Calls are serialised per instance (one per device and JVM): Spark tasks sharing a GPU take
 * turns on it.
 */
public final class CudaFeaturizer implements FeaturizeBackend, AutoCloseable {
  /** System property: false runs RADEMACHER projections as float32 GEMMs instead of split tf32. */
  public static final String TF32_PROPERTY = "ggda.cuda.projection.tf32";

  /** Stage names of a {@link Profile}. */
  public static final String UPLOAD = "upload";

  public static final String FORWARD = "forward";
  public static final String BACKWARD = "backward";
  public static final String GRADIENTS = "gradients";
  public static final String GENERATE = "generate P";
  public static final String PROJECTION = "projection";
  public static final String KERNEL = "kernel";
  public static final String DOWNLOAD = "download";

  /**
   * Sizes that trade device memory for fewer, larger operations; results depend on them only
   * through float32 summation order.
   *
   * @param passBytes device memory the per-example rows of one pass may take
   * @param groupedPassRows rows per pass when no per-example rows are formed
   * @param cacheBytes budget for whole projection matrices kept on the device
   * @param chunkBytes rows of a P above the budget generated at once
   * @param splitTf32 RADEMACHER projections as two tf32 products (else one float32 product)
   */
  public record Options(
      long passBytes, int groupedPassRows, long cacheBytes, long chunkBytes, boolean splitTf32) {
    /**
     * Production sizes; the cache budget is the CPU's ({@code ggda.projection.cache.mb}), in device
     * memory.
     */
    public static Options defaults() {
      return new Options(
          2L << 30,
          16_384,
          Long.getLong("ggda.projection.cache.mb", 1024L) << 20,
          256L << 20,
          Boolean.parseBoolean(System.getProperty(TF32_PROPERTY, "true")));
    }
  }

  /**
   * Device time and useful flops per stage, collected while set with {@link #profile}: each stage
   * then waits for the device, which costs a little, so it is off in production.
   */
  public static final class Profile {
    public final Map<String, Long> nanos = new LinkedHashMap<>();
    public final Map<String, Double> flops = new LinkedHashMap<>();
  }

  private enum SketchKind {
    DENSE,
    FACTORED,
    IDENTITY
  }

  /** How gradients become features: a dense P, the factored projection, or none (k = p). */
  private record Sketch(
      SketchKind kind,
      Projection dense,
      FactoredProjection factored,
      int dim,
      long rowWidth,
      boolean split) {}

  private final Gpu gpu;
  private final Options options;
  private final Map<String, Gpu.Array> scratch = new HashMap<>();
  private final LinkedHashMap<String, Gpu.Array> projections = new LinkedHashMap<>(16, 0.75f, true);
  private long projectionBytes;
  private Profile profile;

  public CudaFeaturizer(Gpu gpu, Options options) {
    this.gpu = gpu;
    this.options = options;
  }

  @Override
  public String device() {
    return gpu.describe();
  }

  public Gpu gpu() {
    return gpu;
  }

  /** Collect per-stage times into {@code p} (null stops). */
  public synchronized void profile(Profile p) {
    this.profile = p;
  }

  @Override
  public synchronized Featurizer.Output featurize(
      Architecture arch, List<Featurizer.Slot> slots, Featurizer.Spec spec, Featurizer.Rows rows) {
    int[] sizes = Featurizer.sizes(rows);
    boolean allSingle = java.util.Arrays.stream(sizes).allMatch(v -> v == 1);
    int n = rows.rows();
    long t = mark();
    Gpu.Array x = buf("x", Gpu.Type.FLOAT, (long) n * rows.dim());
    gpu.upload(rows.x(), 0, n * rows.dim(), x);
    Gpu.Array y = buf("y", Gpu.Type.INT, n);
    gpu.upload(rows.y(), 0, n, y);
    stage(UPLOAD, t);
    int s = slots.size();
    float[][] loss = new float[s][];
    float[][] margin = spec.marginSums() ? new float[s][] : null;
    float[][] qSums = Featurizer.wantsQSums(spec) ? new float[s][] : null;
    double[][] kernel = spec.moment() == Featurizer.Moment.NONE ? null : new double[s][];
    long[] kernelRows = new long[s];
    for (int si = 0; si < s; si++) {
      Featurizer.Slot slot = slots.get(si);
      t = mark();
      Gpu.Array params = buf("params", Gpu.Type.FLOAT, arch.paramCount());
      gpu.upload(slot.params(), 0, slot.params().length, params);
      stage(UPLOAD, t);
      Sketch sketch = sketch(arch, spec, slot);
      SlotArrays r =
          allSingle
              ? perExample(arch, params, sketch, spec, rows, x, y)
              : grouped(arch, params, sketch, spec, rows, sizes, x, y);
      loss[si] = r.loss;
      if (margin != null) {
        margin[si] = r.margin;
      }
      if (qSums != null) {
        qSums[si] = r.qSums;
      }
      if (kernel != null && spec.moment().fromGroupRows()) {
        // On the host, as the CPU backend does: one m x k by k x m product per block.
        t = mark();
        kernel[si] =
            Featurizer.groupMoment(
                spec.moment(), r.loss, rows.groups(), sketch.dim, sizes, r.qSums);
        stage(KERNEL, t);
        kernelRows[si] = rows.groups();
      } else if (kernel != null) {
        kernel[si] = r.kernel;
        kernelRows[si] = r.kernelRows;
      }
    }
    return new Featurizer.Output(
        rows.groupIds().clone(), sizes, loss, margin, qSums, kernel, kernelRows);
  }

  private record SlotArrays(
      float[] loss, float[] margin, float[] qSums, double[] kernel, long kernelRows) {}

  private Sketch sketch(Architecture arch, Featurizer.Spec spec, Featurizer.Slot slot) {
    long p = arch.paramCount();
    return switch (spec.projection()) {
      case NONE -> new Sketch(SketchKind.IDENTITY, null, null, Math.toIntExact(p), p, false);
      case FACTORED -> {
        FactoredProjection f =
            new FactoredProjection(arch, spec.dim(), spec.seed(), slot.member(), slot.checkpoint());
        yield new Sketch(SketchKind.FACTORED, null, f, f.dim(), f.dim(), false);
      }
      default -> {
        Projection proj =
            new Projection(
                spec.projection(), p, spec.dim(), spec.seed(), slot.member(), slot.checkpoint());
        boolean split = options.splitTf32() && proj.kind() == ProjectionKind.RADEMACHER;
        yield new Sketch(SketchKind.DENSE, proj, null, proj.dim(), p, split);
      }
    };
  }

  /** Groups of one example: the per-example features phi, psi = -Q phi (as {@link Featurizer}). */
  private SlotArrays perExample(
      Architecture arch,
      Gpu.Array params,
      Sketch sk,
      Featurizer.Spec spec,
      Featurizer.Rows rows,
      Gpu.Array x,
      Gpu.Array y) {
    int n = rows.rows();
    int k = sk.dim;
    int classes = arch.classes();
    float[] loss = new float[n * k];
    float[] margin = spec.marginSums() ? new float[n * k] : null;
    float[] qSums = Featurizer.wantsQSums(spec) ? new float[n] : null;
    Gpu.Array kernel = zeroedKernel(spec, k);
    long kernelRows = 0;
    boolean gaussNewton = spec.moment() == Featurizer.Moment.GAUSS_NEWTON;
    int passRows = perExamplePassRows(arch, sk, n);
    for (int r0 = 0; r0 < n; r0 += passRows) {
      int r1 = Math.min(n, r0 + passRows);
      int b = r1 - r0;
      Gpu.Array[] a = forward(arch, params, x.at((long) r0 * rows.dim()), b);
      Gpu.Array dm = buf("dlogits", Gpu.Type.FLOAT, (long) b * classes);
      Gpu.Array q = buf("q", Gpu.Type.FLOAT, b);
      Gpu.Array probs = gaussNewton ? buf("probs", Gpu.Type.FLOAT, (long) b * classes) : null;
      long t = mark();
      gpu.logitGradients(a[arch.layers()], y.at(r0), b, classes, dm, q, null, probs);
      stage(FORWARD, t);
      Gpu.Array[] d = backward(arch, params, a, dm, b);
      Gpu.Array phi = buf("phi", Gpu.Type.FLOAT, (long) b * k);
      perExampleFeatures(arch, sk, a, d, b, phi);
      Gpu.Array psi = buf("psi", Gpu.Type.FLOAT, (long) b * k);
      t = mark();
      gpu.scaleRows(phi, q, -1f, b, k, psi);
      stage(GRADIENTS, t);
      t = mark();
      gpu.download(psi, loss, r0 * k, b * k);
      if (margin != null) {
        gpu.download(phi, margin, r0 * k, b * k);
      }
      if (qSums != null) {
        gpu.download(q, qSums, r0, b);
      }
      stage(DOWNLOAD, t);
      switch (spec.moment()) {
        case EXAMPLES, GROUP_SUMS -> {
          // Groups of one: the batched kernel sum_G chi chi^T / |G| is the exact one.
          addKernel(phi, b, k, kernel);
          kernelRows += b;
        }
        case SAMPLED_EXAMPLES -> {
          int[] sample = Featurizer.sampledIndices(rows, r0, r1, spec);
          if (sample.length > 0) {
            Gpu.Array idx = ints("sample", sample);
            Gpu.Array used = buf("sampled", Gpu.Type.FLOAT, (long) sample.length * k);
            gpu.gatherRows(phi, k, idx, sample.length, used);
            addKernel(used, sample.length, k, kernel);
            kernelRows += sample.length;
          }
        }
        case GAUSS_NEWTON -> kernelRows += gaussNewton(arch, params, sk, a, probs, b, kernel);
        default -> {}
      }
    }
    return new SlotArrays(loss, margin, qSums, downloadKernel(kernel, k), kernelRows);
  }

  private SlotArrays grouped(
      Architecture arch,
      Gpu.Array params,
      Sketch sk,
      Featurizer.Spec spec,
      Featurizer.Rows rows,
      int[] sizes,
      Gpu.Array x,
      Gpu.Array y) {
    int m = rows.groups();
    int k = sk.dim;
    int classes = arch.classes();
    Featurizer.Moment kind = spec.moment();
    boolean withMargin = spec.marginSums() || kind == Featurizer.Moment.GROUP_SUMS;
    int stackedRows = withMargin ? 2 * m : m;
    // Stacked [loss sums; margin sums] (m or 2m x rowWidth), projected by one GEMM at the end.
    Gpu.Array stacked = buf("stacked", Gpu.Type.FLOAT, stackedRows * sk.rowWidth);
    gpu.zero(stacked, stackedRows * sk.rowWidth);
    float[] qSums = Featurizer.wantsQSums(spec) ? new float[m] : null;
    Gpu.Array kernel = zeroedKernel(spec, k);
    long kernelRows = 0;
    boolean perExampleRows =
        kind == Featurizer.Moment.EXAMPLES
            || kind == Featurizer.Moment.SAMPLED_EXAMPLES
            || kind == Featurizer.Moment.GAUSS_NEWTON;
    int passRows =
        perExampleRows
            ? perExamplePassRows(arch, sk, rows.rows())
            : Math.max(spec.passRows(), options.groupedPassRows());
    boolean needMargin =
        withMargin
            || kind == Featurizer.Moment.EXAMPLES
            || kind == Featurizer.Moment.SAMPLED_EXAMPLES;
    Featurizer.Segments seg = Featurizer.Segments.of(rows.starts(), passRows);
    for (int[] pass : seg.passes(passRows)) {
      int s0 = pass[0];
      int s1 = pass[1];
      int r0 = seg.start(s0);
      int r1 = seg.start(s1);
      int b = r1 - r0;
      int count = s1 - s0;
      int[] local = new int[count + 1];
      int[] lossRow = new int[count];
      int[] marginRow = new int[count];
      for (int j = s0; j <= s1; j++) {
        local[j - s0] = seg.start(j) - r0;
      }
      for (int j = s0; j < s1; j++) {
        lossRow[j - s0] = seg.group(j);
        marginRow[j - s0] = m + seg.group(j);
      }
      long t = mark();
      Gpu.Array segments = ints("segments", local);
      Gpu.Array rowA = ints("rowA", lossRow);
      Gpu.Array rowB = withMargin ? ints("rowB", marginRow) : null;
      stage(UPLOAD, t);
      Gpu.Array[] a = forward(arch, params, x.at((long) r0 * rows.dim()), b);
      Gpu.Array dOut = buf("dlogits", Gpu.Type.FLOAT, (long) b * classes);
      Gpu.Array q = needMargin || qSums != null ? buf("q", Gpu.Type.FLOAT, b) : null;
      Gpu.Array probs =
          kind == Featurizer.Moment.GAUSS_NEWTON
              ? buf("probs", Gpu.Type.FLOAT, (long) b * classes)
              : null;
      t = mark();
      // One backward pass serves both sums: with the margin's output gradient, each example's loss
      // gradient is -Q_i times its margin gradient (l = softplus(-f)).
      gpu.logitGradients(
          a[arch.layers()],
          y.at(r0),
          b,
          classes,
          needMargin ? dOut : null,
          q,
          needMargin ? null : dOut,
          probs);
      stage(FORWARD, t);
      if (qSums != null) {
        float[] qPass = new float[b];
        t = mark();
        gpu.download(q, qPass, 0, b);
        stage(DOWNLOAD, t);
        Featurizer.addSegmentSums(qPass, local, lossRow, qSums);
      }
      Gpu.Array[] d = backward(arch, params, a, dOut, b);
      groupSums(arch, sk, a, d, b, segments, count, rowA, rowB, needMargin ? q : null, stacked);
      if (kind == Featurizer.Moment.EXAMPLES) {
        Gpu.Array phi = buf("phi", Gpu.Type.FLOAT, (long) b * k);
        perExampleFeatures(arch, sk, a, d, b, phi);
        addKernel(phi, b, k, kernel);
        kernelRows += b;
      } else if (kind == Featurizer.Moment.SAMPLED_EXAMPLES) {
        // Only the sampled examples' gradients are formed and projected.
        int[] sample = Featurizer.sampledIndices(rows, r0, r1, spec);
        if (sample.length > 0) {
          Gpu.Array idx = ints("sample", sample);
          Gpu.Array[] sa = new Gpu.Array[arch.layers()];
          Gpu.Array[] sd = new Gpu.Array[arch.layers()];
          t = mark();
          for (int l = 0; l < arch.layers(); l++) {
            sa[l] = buf("sampledA" + l, Gpu.Type.FLOAT, (long) sample.length * arch.layerIn(l));
            gpu.gatherRows(a[l], arch.layerIn(l), idx, sample.length, sa[l]);
            sd[l] = buf("sampledD" + l, Gpu.Type.FLOAT, (long) sample.length * arch.layerOut(l));
            gpu.gatherRows(d[l], arch.layerOut(l), idx, sample.length, sd[l]);
          }
          stage(GRADIENTS, t);
          Gpu.Array phi = buf("phi", Gpu.Type.FLOAT, (long) sample.length * k);
          perExampleFeatures(arch, sk, sa, sd, sample.length, phi);
          addKernel(phi, sample.length, k, kernel);
          kernelRows += sample.length;
        }
      } else if (kind == Featurizer.Moment.GAUSS_NEWTON) {
        kernelRows += gaussNewton(arch, params, sk, a, probs, b, kernel);
      }
    }
    Gpu.Array features = stacked;
    if (sk.kind == SketchKind.DENSE) {
      features = buf("features", Gpu.Type.FLOAT, (long) stackedRows * k);
      Gpu.Array lo = null;
      if (sk.split) {
        long t = mark();
        lo = buf("stackedLo", Gpu.Type.FLOAT, stackedRows * sk.rowWidth);
        gpu.splitTf32(stacked, stacked, lo, stackedRows * sk.rowWidth);
        stage(GRADIENTS, t);
      }
      project(sk, stacked, lo, stackedRows, features);
    }
    long t = mark();
    float[] loss = new float[m * k];
    gpu.download(features, loss, 0, m * k);
    float[] margin = null;
    if (spec.marginSums()) {
      margin = new float[m * k];
      gpu.download(features.at((long) m * k), margin, 0, m * k);
    }
    stage(DOWNLOAD, t);
    if (kind == Featurizer.Moment.GROUP_SUMS) {
      // sum_G (1/|G|) chi_G chi_G^T = chi^T diag(1/|G|) chi, in float64 as on the CPU.
      t = mark();
      double[] inv = java.util.Arrays.stream(sizes).mapToDouble(v -> 1.0 / v).toArray();
      Gpu.Array invSizes = buf("invSizes", Gpu.Type.DOUBLE, m);
      gpu.upload(inv, 0, m, invSizes);
      Gpu.Array chi = buf("chi", Gpu.Type.DOUBLE, (long) m * k);
      Gpu.Array chiScaled = buf("chiScaled", Gpu.Type.DOUBLE, (long) m * k);
      gpu.rowsToDouble(features.at((long) m * k), null, m, k, chi);
      gpu.rowsToDouble(features.at((long) m * k), invSizes, m, k, chiScaled);
      gpu.dgemm(true, false, k, k, m, 1.0, chi, k, chiScaled, k, 1.0, kernel, k);
      flops(KERNEL, 2.0 * m * k * k);
      stage(KERNEL, t);
      kernelRows += m;
    }
    return new SlotArrays(loss, margin, qSums, downloadKernel(kernel, k), kernelRows);
  }

  /** Layer inputs a[0..L-1] and the logits a[L] of b rows starting at x0. */
  private Gpu.Array[] forward(Architecture arch, Gpu.Array params, Gpu.Array x0, int b) {
    int layers = arch.layers();
    Gpu.Array[] a = new Gpu.Array[layers + 1];
    a[0] = x0;
    long t = mark();
    for (int l = 0; l < layers; l++) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      Gpu.Array z = buf("a" + (l + 1), Gpu.Type.FLOAT, (long) b * out);
      gpu.gemm(
          false,
          false,
          b,
          out,
          in,
          1f,
          a[l],
          in,
          params.at(arch.weightOffset(l)),
          out,
          0f,
          z,
          out,
          Gpu.Precision.FP32);
      gpu.biasActivation(
          z, params.at(arch.biasOffset(l)), b, out, l == layers - 1 ? null : arch.activation());
      a[l + 1] = z;
      flops(FORWARD, 2.0 * b * in * out);
    }
    stage(FORWARD, t);
    return a;
  }

  /** Output gradients D_l of every layer for the output gradient {@code dLogits} (b x classes). */
  private Gpu.Array[] backward(
      Architecture arch, Gpu.Array params, Gpu.Array[] a, Gpu.Array dLogits, int b) {
    int layers = arch.layers();
    Gpu.Array[] d = new Gpu.Array[layers];
    d[layers - 1] = dLogits;
    long t = mark();
    for (int l = layers - 1; l > 0; l--) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      Gpu.Array prev = buf("d" + (l - 1), Gpu.Type.FLOAT, (long) b * in);
      gpu.gemm(
          false,
          true,
          b,
          in,
          out,
          1f,
          d[l],
          out,
          params.at(arch.weightOffset(l)),
          out,
          0f,
          prev,
          in,
          Gpu.Precision.FP32);
      // a[l] is the activation output of layer l-1: its derivative is a function of a[l] itself.
      gpu.activationBackward(prev, a[l], (long) b * in, arch.activation());
      d[l - 1] = prev;
      flops(BACKWARD, 2.0 * b * in * out);
    }
    stage(BACKWARD, t);
    return d;
  }

  /** Features (b x k) of every row of a pass. */
  private void perExampleFeatures(
      Architecture arch, Sketch sk, Gpu.Array[] a, Gpu.Array[] d, int b, Gpu.Array out) {
    Gpu.Array seg = iota(b);
    long p = arch.paramCount();
    switch (sk.kind) {
      case DENSE -> {
        long t = mark();
        Gpu.Array g = buf("gradients", Gpu.Type.FLOAT, b * p);
        Gpu.Array lo = sk.split ? buf("gradientsLo", Gpu.Type.FLOAT, b * p) : null;
        for (int l = 0; l < arch.layers(); l++) {
          int in = arch.layerIn(l);
          int o = arch.layerOut(l);
          gpu.outerSums(
              a[l],
              in,
              in,
              d[l],
              o,
              o,
              true,
              seg,
              b,
              null,
              null,
              null,
              1f,
              g,
              p,
              arch.weightOffset(l),
              false,
              lo);
        }
        stage(GRADIENTS, t);
        project(sk, g, lo, b, out);
      }
      case IDENTITY -> {
        long t = mark();
        for (int l = 0; l < arch.layers(); l++) {
          int in = arch.layerIn(l);
          int o = arch.layerOut(l);
          gpu.outerSums(
              a[l],
              in,
              in,
              d[l],
              o,
              o,
              true,
              seg,
              b,
              null,
              null,
              null,
              1f,
              out,
              p,
              arch.weightOffset(l),
              false,
              null);
        }
        stage(GRADIENTS, t);
      }
      case FACTORED -> factoredSums(arch, sk, a, d, b, seg, b, null, null, null, out, false);
    }
  }

  /**
   * Adds each segment's gradient sum (its loss sum, scaled by -q when q is given, into row rowA[s];
   * its unscaled sum into row rowB[s] when rowB is given) to the stacked rows.
   */
  private void groupSums(
      Architecture arch,
      Sketch sk,
      Gpu.Array[] a,
      Gpu.Array[] d,
      int b,
      Gpu.Array segments,
      int count,
      Gpu.Array rowA,
      Gpu.Array rowB,
      Gpu.Array q,
      Gpu.Array stacked) {
    if (sk.kind == SketchKind.FACTORED) {
      factoredSums(arch, sk, a, d, b, segments, count, rowA, rowB, q, stacked, true);
      return;
    }
    long t = mark();
    long p = arch.paramCount();
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      gpu.outerSums(
          a[l],
          in,
          in,
          d[l],
          o,
          o,
          true,
          segments,
          count,
          rowA,
          rowB,
          q,
          -1f,
          stacked,
          p,
          arch.weightOffset(l),
          true,
          null);
    }
    stage(GRADIENTS, t);
  }

  /**
   * The factored projection of each segment's gradient sum: per layer, x = [a, 1] P_in and y = D
   * P_out (two small GEMMs), then the segment sums of x_i y_i^T at the layer's columns.
   */
  private void factoredSums(
      Architecture arch,
      Sketch sk,
      Gpu.Array[] a,
      Gpu.Array[] d,
      int b,
      Gpu.Array segments,
      int count,
      Gpu.Array rowA,
      Gpu.Array rowB,
      Gpu.Array q,
      Gpu.Array dst,
      boolean accumulate) {
    FactoredProjection f = sk.factored;
    long off = 0;
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      int ki = f.inWidth(l);
      int ko = f.outWidth(l);
      long t = mark();
      Gpu.Array withOne = buf("withOne", Gpu.Type.FLOAT, (long) b * (in + 1));
      gpu.appendOnes(a[l], b, in, withOne);
      stage(GRADIENTS, t);
      Gpu.Array xs = withOne;
      if (f.inFactor(l) != null) {
        xs = buf("inProjected", Gpu.Type.FLOAT, (long) b * ki);
        smallProjection(f.inFactor(l), withOne, b, xs);
      }
      Gpu.Array ys = d[l];
      if (f.outFactor(l) != null) {
        ys = buf("outProjected", Gpu.Type.FLOAT, (long) b * ko);
        smallProjection(f.outFactor(l), d[l], b, ys);
      }
      t = mark();
      gpu.outerSums(
          xs,
          ki,
          ki,
          ys,
          ko,
          ko,
          false,
          segments,
          count,
          rowA,
          rowB,
          q,
          -1f,
          dst,
          sk.dim,
          off,
          accumulate,
          null);
      stage(GRADIENTS, t);
      off += (long) ki * ko;
    }
  }

  /** out (b x k) = v (b x rows of P) P, float32, for a factor small enough to cache. */
  private void smallProjection(Projection proj, Gpu.Array v, int b, Gpu.Array out) {
    long t = mark();
    Gpu.Array whole = cachedProjection(proj, true);
    gpu.gemm(
        false,
        false,
        b,
        proj.dim(),
        (int) proj.rows(),
        proj.rademacherScale(),
        v,
        (int) proj.rows(),
        whole,
        proj.dim(),
        0f,
        out,
        proj.dim(),
        Gpu.Precision.FP32);
    flops(PROJECTION, 2.0 * b * proj.rows() * proj.dim());
    stage(PROJECTION, t);
  }

  /**
   * out (rows x k) = (g + lo) P: with lo (split tf32) two tf32 products, else one float32 product;
   * P whole from the cache, or generated chunk by chunk when it exceeds the budget.
   */
  private void project(Sketch sk, Gpu.Array g, Gpu.Array lo, int rows, Gpu.Array out) {
    Projection proj = sk.dense;
    int p = Math.toIntExact(proj.rows());
    int k = proj.dim();
    float alpha = proj.kind() == ProjectionKind.RADEMACHER ? proj.rademacherScale() : 1f;
    Gpu.Precision precision = lo != null ? Gpu.Precision.TF32 : Gpu.Precision.FP32;
    Gpu.Array whole = cachedProjection(proj, false);
    long t = mark();
    if (whole != null) {
      gpu.gemm(false, false, rows, k, p, alpha, g, p, whole, k, 0f, out, k, precision);
      if (lo != null) {
        gpu.gemm(false, false, rows, k, p, alpha, lo, p, whole, k, 1f, out, k, precision);
      }
    } else {
      int chunkRows =
          (int)
              Math.max(
                  Projection.BLOCK_ROWS,
                  options.chunkBytes() / (4L * k) / Projection.BLOCK_ROWS * Projection.BLOCK_ROWS);
      Gpu.Array chunk = buf("projectionChunk", Gpu.Type.FLOAT, (long) chunkRows * k);
      stage(PROJECTION, t);
      for (int c0 = 0; c0 < p; c0 += chunkRows) {
        int len = Math.min(chunkRows, p - c0);
        generate(proj, chunk, c0, len);
        t = mark();
        gpu.gemm(
            false,
            false,
            rows,
            k,
            len,
            alpha,
            g.at(c0),
            p,
            chunk,
            k,
            c0 == 0 ? 0f : 1f,
            out,
            k,
            precision);
        if (lo != null) {
          gpu.gemm(
              false, false, rows, k, len, alpha, lo.at(c0), p, chunk, k, 1f, out, k, precision);
        }
        stage(PROJECTION, t);
      }
      t = mark();
    }
    flops(PROJECTION, 2.0 * rows * p * k);
    stage(PROJECTION, t);
  }

  /**
   * The whole P of a projection, generated once per device and kept while it fits the budget (least
   * recently used ones make room), or null when it alone exceeds it. RADEMACHER entries are stored
   * as +-1 and scaled in the product.
   */
  private Gpu.Array cachedProjection(Projection proj, boolean always) {
    long bytes = proj.rows() * (long) proj.dim() * 4;
    if (bytes > options.cacheBytes() && !always) {
      return null;
    }
    String key = proj.kind() + "/" + proj.rows() + "/" + proj.dim() + "/" + proj.key();
    Gpu.Array hit = projections.get(key);
    if (hit != null) {
      return hit;
    }
    Iterator<Map.Entry<String, Gpu.Array>> eldest = projections.entrySet().iterator();
    while (projectionBytes + bytes > options.cacheBytes() && eldest.hasNext()) {
      Gpu.Array victim = eldest.next().getValue();
      projectionBytes -= victim.length() * 4;
      gpu.free(victim);
      eldest.remove();
    }
    Gpu.Array whole = gpu.alloc(Gpu.Type.FLOAT, proj.rows() * proj.dim());
    generate(proj, whole, 0, Math.toIntExact(proj.rows()));
    projections.put(key, whole);
    projectionBytes += bytes;
    return whole;
  }

  private void generate(Projection proj, Gpu.Array dst, long row0, int rows) {
    long t = mark();
    gpu.projectionRows(
        dst,
        proj.kind() == ProjectionKind.GAUSSIAN,
        proj.key(),
        row0,
        rows,
        proj.dim(),
        1f,
        1.0 / Math.sqrt(proj.dim()));
    stage(GENERATE, t);
  }

  /**
   * Adds P^T (sum_i J_i^T Lambda_i J_i) P for a pass: one backward per class of the output gradient
   * sqrt(p_c)(e_c - p), its per-example features, and their k x k sum. Returns the examples added.
   */
  private long gaussNewton(
      Architecture arch,
      Gpu.Array params,
      Sketch sk,
      Gpu.Array[] a,
      Gpu.Array probs,
      int b,
      Gpu.Array kernel) {
    int classes = arch.classes();
    Gpu.Array direction = buf("gaussNewtonDirection", Gpu.Type.FLOAT, (long) b * classes);
    Gpu.Array v = buf("gaussNewtonFeatures", Gpu.Type.FLOAT, (long) b * sk.dim);
    for (int c = 0; c < classes; c++) {
      long t = mark();
      gpu.gaussNewtonDirection(probs, b, classes, c, direction);
      stage(BACKWARD, t);
      Gpu.Array[] d = backward(arch, params, a, direction, b);
      perExampleFeatures(arch, sk, a, d, b, v);
      addKernel(v, b, sk.dim, kernel);
    }
    return b;
  }

  /** kernel (float64) += f^T f, the float32 product of a pass added in float64 as on the CPU. */
  private void addKernel(Gpu.Array f, int rows, int k, Gpu.Array kernel) {
    long t = mark();
    Gpu.Array k32 = buf("kernel32", Gpu.Type.FLOAT, (long) k * k);
    gpu.gemm(true, false, k, k, rows, 1f, f, k, f, k, 0f, k32, k, Gpu.Precision.FP32);
    gpu.addToDouble(kernel, k32, (long) k * k);
    flops(KERNEL, 2.0 * rows * k * k);
    stage(KERNEL, t);
  }

  private Gpu.Array zeroedKernel(Featurizer.Spec spec, int k) {
    if (spec.moment() == Featurizer.Moment.NONE || spec.moment().fromGroupRows()) {
      return null;
    }
    Gpu.Array kernel = buf("kernel", Gpu.Type.DOUBLE, (long) k * k);
    gpu.zero(kernel, (long) k * k);
    return kernel;
  }

  private double[] downloadKernel(Gpu.Array kernel, int k) {
    if (kernel == null) {
      return null;
    }
    long t = mark();
    double[] out = new double[k * k];
    gpu.download(kernel, out, 0, k * k);
    stage(DOWNLOAD, t);
    return out;
  }

  /**
   * Rows per pass of the per-example path: as many as the pass's per-example rows (and their tf32
   * remainders) fit in {@link Options#passBytes}.
   */
  private int perExamplePassRows(Architecture arch, Sketch sk, int n) {
    long widest = 0;
    for (int l = 0; l < arch.layers(); l++) {
      widest = Math.max(widest, arch.layerIn(l) + 1);
    }
    long perRow =
        switch (sk.kind) {
          case DENSE -> 4L * sk.rowWidth * (sk.split ? 2 : 1) + 12L * sk.dim;
          case IDENTITY -> 12L * sk.dim;
          case FACTORED -> 12L * sk.dim + 8L * widest;
        };
    return (int) Math.max(1, Math.min(n, options.passBytes() / perRow));
  }

  private Gpu.Array ints(String name, int[] values) {
    Gpu.Array a = buf(name, Gpu.Type.INT, values.length);
    gpu.upload(values, 0, values.length, a);
    return a;
  }

  /** 0, 1, ..., n: the segment table of n one-row segments. */
  private Gpu.Array iota(int n) {
    Gpu.Array a = scratch.get("iota");
    if (a == null || a.length() < n + 1L) {
      int[] v = new int[Math.max(n + 1, a == null ? 0 : (int) a.length())];
      for (int i = 0; i < v.length; i++) {
        v[i] = i;
      }
      if (a != null) {
        gpu.free(a);
      }
      a = gpu.alloc(Gpu.Type.INT, v.length);
      gpu.upload(v, 0, v.length, a);
      scratch.put("iota", a);
    }
    return a;
  }

  /** A scratch array kept between calls, reallocated when a call needs it larger. */
  private Gpu.Array buf(String name, Gpu.Type type, long length) {
    Gpu.Array a = scratch.get(name);
    if (a != null && a.type() == type && a.length() >= length) {
      return a;
    }
    if (a != null) {
      gpu.free(a);
    }
    a = gpu.alloc(type, length);
    scratch.put(name, a);
    return a;
  }

  private long mark() {
    if (profile != null) {
      gpu.sync();
    }
    return System.nanoTime();
  }

  private void stage(String name, long since) {
    if (profile != null) {
      gpu.sync();
      profile.nanos.merge(name, System.nanoTime() - since, Long::sum);
    }
  }

  private void flops(String name, double f) {
    if (profile != null) {
      profile.flops.merge(name, f, Double::sum);
    }
  }

  /** Frees the scratch arrays and cached projections (the device itself stays open). */
  @Override
  public synchronized void close() {
    for (Gpu.Array a : scratch.values()) {
      gpu.free(a);
    }
    scratch.clear();
    for (Gpu.Array a : projections.values()) {
      gpu.free(a);
    }
    projections.clear();
    projectionBytes = 0;
  }
}
