package dev.ggda.cuda;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Small featurize problems that between them take every path of {@link CudaFeaturizer}: every
 * projection kind and kernel, per-example and grouped rows, several passes, groups chunked across
 * passes, P cached or generated chunk by chunk, split tf32 or float32 projections, several slots.
 * Plain Java (no ND4J), so the GPU check can run them where only the device and the JVM are.
 */
public final class FeaturizeCases {
  public static final Architecture SMALL =
      new Architecture(5, new int[] {6}, 3, ActivationKind.RELU);

  /** p = 754: a P of more than one 512-row block. */
  public static final Architecture WIDE =
      new Architecture(20, new int[] {30}, 4, ActivationKind.RELU);

  public static final Architecture DEEP =
      new Architecture(7, new int[] {9, 6}, 4, ActivationKind.TANH);
  public static final Architecture SIGMOID =
      new Architecture(5, new int[] {8}, 3, ActivationKind.SIGMOID);

  private FeaturizeCases() {}

  /** One problem: the rows' group sizes, the spec, how many slots, and the backend's sizes. */
  public record Case(
      String name,
      Architecture arch,
      int[] sizes,
      Featurizer.Spec spec,
      int slots,
      CudaFeaturizer.Options options) {
    public Featurizer.Rows rows() {
      return FeaturizeCases.rows(arch, sizes, sizes.length);
    }

    public List<Featurizer.Slot> slotList() {
      return FeaturizeCases.slots(arch, slots);
    }

    public int k() {
      return Featurizer.featureDim(arch, spec);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** Rows of groups of the given sizes, inputs N(0, 1), labels uniform. */
  public static Featurizer.Rows rows(Architecture arch, int[] sizes, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int d = arch.inputDim();
    int n = java.util.Arrays.stream(sizes).sum();
    float[] x = new float[n * d];
    int[] y = new int[n];
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 1000 + 3L * i;
      y[i] = rnd.nextInt(arch.classes());
      for (int j = 0; j < d; j++) {
        x[i * d + j] = (float) rnd.nextGaussian();
      }
    }
    long[] groupIds = new long[sizes.length];
    int[] starts = new int[sizes.length + 1];
    for (int g = 0; g < sizes.length; g++) {
      groupIds[g] = 40 + g;
      starts[g + 1] = starts[g] + sizes[g];
    }
    return new Featurizer.Rows(x, y, ids, d, groupIds, starts);
  }

  /**
   * Seeded parameters: Glorot-uniform weights and small biases (not zero, so the bias paths count).
   */
  public static float[] params(Architecture arch, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] flat = new float[Math.toIntExact(arch.paramCount())];
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      double limit = Math.sqrt(6.0 / (in + out));
      int w = (int) arch.weightOffset(l);
      for (int i = 0; i < in * out; i++) {
        flat[w + i] = (float) ((2 * rnd.nextDouble() - 1) * limit);
      }
      int b = (int) arch.biasOffset(l);
      for (int i = 0; i < out; i++) {
        flat[b + i] = (float) (0.1 * rnd.nextGaussian());
      }
    }
    return flat;
  }

  /** Slots of seeded models (different members and checkpoints: different P). */
  public static List<Featurizer.Slot> slots(Architecture arch, int count) {
    List<Featurizer.Slot> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      out.add(new Featurizer.Slot(s % 2, s, params(arch, 7 + s)));
    }
    return out;
  }

  static int[] ones(int n) {
    int[] v = new int[n];
    java.util.Arrays.fill(v, 1);
    return v;
  }

  static Featurizer.Spec spec(
      ProjectionKind kind, int k, boolean margin, Featurizer.Moment kernel) {
    return new Featurizer.Spec(kind, k, 5, margin, kernel, 0.5, 77, 4);
  }

  /** chunkBytes 1: a P above the cache budget is generated 512 rows at a time. */
  static CudaFeaturizer.Options options(
      long passBytes, int groupedPassRows, long cacheBytes, boolean split) {
    return new CudaFeaturizer.Options(passBytes, groupedPassRows, cacheBytes, 1, split);
  }

  static final CudaFeaturizer.Options ROOMY = options(1L << 30, 1 << 14, 1L << 30, true);

  /** Bytes of n per-example rows of a dense split-tf32 pass (what sizes a pass). */
  private static long rowsOf(int n, Architecture arch, int k) {
    return n * (4L * arch.paramCount() * 2 + 12L * k);
  }

  public static List<Case> all() {
    int[] mixed = {3, 1, 4, 2, 9, 5, 1};
    Featurizer.Moment exact = Featurizer.Moment.EXAMPLES;
    Featurizer.Moment sampled = Featurizer.Moment.SAMPLED_EXAMPLES;
    Featurizer.Moment batched = Featurizer.Moment.GROUP_SUMS;
    Featurizer.Moment gaussNewton = Featurizer.Moment.GAUSS_NEWTON;
    Featurizer.Moment none = Featurizer.Moment.NONE;
    Featurizer.Moment groupRows = Featurizer.Moment.GROUP_ROWS;
    Featurizer.Moment groupFisher = Featurizer.Moment.GROUP_FISHER;
    ProjectionKind rademacher = ProjectionKind.RADEMACHER;
    return List.of(
        new Case(
            "per-example rademacher exact, 3 rows per pass",
            SMALL,
            ones(11),
            spec(rademacher, 8, true, exact),
            1,
            options(rowsOf(3, SMALL, 8), 1 << 14, 1L << 30, true)),
        new Case(
            "per-example rademacher exact, float32 projection",
            SMALL,
            ones(11),
            spec(rademacher, 8, true, exact),
            1,
            options(1L << 30, 1 << 14, 1L << 30, false)),
        new Case(
            "per-example gaussian sampled, P in chunks",
            WIDE,
            ones(13),
            spec(ProjectionKind.GAUSSIAN, 16, true, sampled),
            1,
            options(1L << 30, 1 << 14, 0, true)),
        new Case(
            "per-example rademacher, P in chunks, two slots",
            WIDE,
            ones(9),
            spec(rademacher, 12, false, none),
            2,
            options(1L << 30, 1 << 14, 0, true)),
        new Case(
            "per-example none, Gauss-Newton",
            SMALL,
            ones(7),
            spec(ProjectionKind.NONE, 0, false, gaussNewton),
            1,
            ROOMY),
        new Case(
            "per-example factored exact",
            DEEP,
            ones(8),
            spec(ProjectionKind.FACTORED, 40, true, exact),
            1,
            ROOMY),
        new Case(
            "per-example rademacher batched (a block of singletons)",
            SMALL,
            ones(6),
            spec(rademacher, 8, true, batched),
            1,
            ROOMY),
        new Case(
            "groups rademacher batched, groups chunked over passes of 4",
            SMALL,
            mixed,
            spec(rademacher, 8, true, batched),
            1,
            options(1L << 30, 4, 1L << 30, true)),
        new Case(
            "groups gaussian sampled, two slots",
            WIDE,
            mixed,
            spec(ProjectionKind.GAUSSIAN, 10, true, sampled),
            2,
            ROOMY),
        new Case(
            "per-example rademacher group kernel (Q sums, no margin)",
            SMALL,
            ones(9),
            spec(rademacher, 8, false, groupRows),
            1,
            ROOMY),
        new Case(
            "groups rademacher group kernel, two slots, passes of 4",
            SMALL,
            mixed,
            spec(rademacher, 8, false, groupRows),
            2,
            options(1L << 30, 4, 1L << 30, true)),
        new Case(
            "groups none, group Fisher",
            SMALL,
            mixed,
            spec(ProjectionKind.NONE, 0, false, groupFisher),
            1,
            ROOMY),
        new Case(
            "groups factored group Fisher",
            DEEP,
            mixed,
            spec(ProjectionKind.FACTORED, 40, false, groupFisher),
            1,
            ROOMY),
        new Case(
            "groups none, loss sums only",
            SMALL,
            mixed,
            spec(ProjectionKind.NONE, 0, false, none),
            1,
            ROOMY),
        new Case(
            "groups factored batched, two hidden layers",
            DEEP,
            mixed,
            spec(ProjectionKind.FACTORED, 40, true, batched),
            1,
            ROOMY),
        new Case(
            "groups rademacher Gauss-Newton, sigmoid",
            SIGMOID,
            mixed,
            spec(rademacher, 6, false, gaussNewton),
            1,
            ROOMY),
        new Case(
            "groups rademacher exact, P in chunks, 5 rows per pass",
            WIDE,
            mixed,
            spec(rademacher, 8, true, exact),
            1,
            options(rowsOf(5, WIDE, 8), 1 << 14, 0, true)),
        new Case(
            "groups rademacher sampled, float32",
            SMALL,
            mixed,
            spec(rademacher, 8, true, sampled),
            1,
            options(1L << 30, 1 << 14, 1L << 30, false)));
  }
}
