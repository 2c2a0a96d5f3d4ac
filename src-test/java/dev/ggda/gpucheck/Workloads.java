package dev.ggda.gpucheck;

import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Featurizer;

/**
 * The featurize problems of the GPU check, built the same way where the CPU references are made
 * (deploy/gpu-check build) and where they are checked (the GPU host): the specs a ggda TRAK run
 * would use, and rows of the bundle's images as groups of consecutive rows.
 */
final class Workloads {
  /** attribute.projection.seed's default. */
  static final long SEED = 0;

  private Workloads() {}

  /** AttributionStage.passRows: the CPU's rows per pass (the cuda backend sizes its own passes). */
  static int passRows(long params) {
    return (int) Math.max(16, Math.min(4096, (32L << 20) / params));
  }

  /**
   * The spec of a TRAK run (attribute.method trak): margin sums, the given kernel, the sampled
   * kernel's fraction for {@code trainRows} (10,000 examples) and its seed derived as
   * AttributionStage does.
   */
  static Featurizer.Spec trak(
      ProjectionKind kind, int k, Featurizer.Moment kernel, long trainRows, long params) {
    return new Featurizer.Spec(
        kind,
        k,
        SEED,
        true,
        kernel,
        Math.min(1.0, 10_000.0 / trainRows),
        SEED ^ 0x5A4D_504CL,
        passRows(params));
  }

  /** Loss features only (no margin sums, no kernel): what the torch reference computes. */
  static Featurizer.Spec featuresOnly(ProjectionKind kind, int k, long params) {
    return new Featurizer.Spec(
        kind, k, SEED, false, Featurizer.Moment.NONE, 0, 0, passRows(params));
  }

  /**
   * Rows r0 .. r0 + n - 1 of the images in groups of {@code size} consecutive rows; example id =
   * row.
   */
  static Featurizer.Rows rows(Bundle.Images im, int r0, int n, int size) {
    int d = im.dim();
    float[] x = new float[n * d];
    System.arraycopy(im.x(), r0 * d, x, 0, n * d);
    int[] y = java.util.Arrays.copyOfRange(im.y(), r0, r0 + n);
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = r0 + i;
    }
    int groups = (n + size - 1) / size;
    long[] groupIds = new long[groups];
    int[] starts = new int[groups + 1];
    for (int g = 0; g < groups; g++) {
      groupIds[g] = r0 / size + g;
      starts[g + 1] = Math.min(n, (g + 1) * size);
    }
    return new Featurizer.Rows(x, y, ids, d, groupIds, starts);
  }

  /**
   * A slice checked against the CPU: a name, its rows (first row, count, group size) and its spec.
   */
  record Slice(String name, int r0, int n, int groupSize, Featurizer.Spec spec) {}

  /**
   * The slices whose CPU features the bundle carries (k features, p parameters, trainRows for the
   * sampled kernel).
   */
  static java.util.List<Slice> slices(int k, long params, long trainRows) {
    ProjectionKind rademacher = ProjectionKind.RADEMACHER;
    return java.util.List.of(
        new Slice(
            "per-example TRAK (exact kernel)",
            0,
            256,
            1,
            trak(rademacher, k, Featurizer.Moment.EXAMPLES, trainRows, params)),
        new Slice(
            "groups of 64, TRAK sampled kernel",
            0,
            1024,
            64,
            trak(rademacher, k, Featurizer.Moment.SAMPLED_EXAMPLES, trainRows, params)),
        new Slice(
            "groups of 64, TRAK batched kernel",
            0,
            1024,
            64,
            trak(rademacher, k, Featurizer.Moment.GROUP_SUMS, trainRows, params)),
        new Slice(
            "per-example gaussian features",
            256,
            64,
            1,
            featuresOnly(ProjectionKind.GAUSSIAN, k, params)),
        new Slice(
            "per-example factored TRAK",
            320,
            64,
            1,
            trak(ProjectionKind.FACTORED, k, Featurizer.Moment.EXAMPLES, trainRows, params)),
        new Slice(
            "groups of 8, Gauss-Newton kernel (IF projected)",
            384,
            32,
            8,
            new Featurizer.Spec(
                rademacher,
                k,
                SEED,
                false,
                Featurizer.Moment.GAUSS_NEWTON,
                0,
                0,
                passRows(params))));
  }

  /** The target side of TRAK (TargetFeatures): per-example margin features, no kernel. */
  static Featurizer.Spec targetSpec(Featurizer.Spec train) {
    return new Featurizer.Spec(
        train.projection(),
        train.dim(),
        train.seed(),
        true,
        Featurizer.Moment.NONE,
        0,
        0,
        train.passRows());
  }

  static double trace(double[] kernel, int k) {
    double s = 0;
    for (int i = 0; i < k; i++) {
      s += kernel[i * k + i];
    }
    return s;
  }

  /** Identifies the list of featurize cases, so that a bundle built for another list is noticed. */
  static long caseList(java.util.List<dev.ggda.cuda.FeaturizeCases.Case> cases) {
    return String.join("|", cases.stream().map(dev.ggda.cuda.FeaturizeCases.Case::name).toList())
        .hashCode();
  }

  /** Targets of the scores check: the first ones of the target file. */
  static final int SCORE_TARGETS = 64;
}
