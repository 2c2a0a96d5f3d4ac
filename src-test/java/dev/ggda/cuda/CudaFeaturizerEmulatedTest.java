package dev.ggda.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.math.Activation;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Network;
import dev.ggda.math.Projection;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The cuda backend's computation, run on {@link EmulatedGpu}, gives the CPU backend's features and
 * kernels: every projection kind, every kernel, per-example and grouped rows, several passes, groups
 * chunked across passes, P cached or generated chunk by chunk, split tf32 or float32 projections,
 * several slots. What this cannot check (the CUDA C and the JavaCPP calls) the GPU test does.
 */
class CudaFeaturizerEmulatedTest {
  static final Architecture SMALL = new Architecture(5, new int[] {6}, 3, Activation.RELU);
  /** p = 754: a P of more than one 512-row block. */
  static final Architecture WIDE = new Architecture(20, new int[] {30}, 4, Activation.RELU);
  static final Architecture DEEP = new Architecture(7, new int[] {9, 6}, 4, Activation.TANH);
  static final Architecture SIGMOID = new Architecture(5, new int[] {8}, 3, Activation.SIGMOID);

  /** Emulated float32 against ND4J float32: only summation order differs. */
  static final double TOLERANCE = 1e-5;

  /** Rows of groups of the given sizes, inputs N(0, 1), labels uniform. */
  static Featurizer.Rows rows(Architecture arch, int[] sizes, long seed) {
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

  static int[] ones(int n) {
    int[] v = new int[n];
    java.util.Arrays.fill(v, 1);
    return v;
  }

  /** Slots of seeded models (different members and checkpoints: different P). */
  static List<Featurizer.Slot> slots(Architecture arch, int count) {
    List<Featurizer.Slot> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      out.add(new Featurizer.Slot(s % 2, s, Network.initialise(arch, 7 + s, DataType.FLOAT).paramsAsFloats()));
    }
    return out;
  }

  static Featurizer.Spec spec(Projection.Kind kind, int k, boolean margin, Featurizer.KernelKind kernel) {
    return new Featurizer.Spec(kind, k, 5, margin, kernel, 0.5, 77, 4);
  }

  /** Default sizes for a case, overridden by the cases that exercise one of them. */
  static CudaFeaturizer.Options options(long passBytes, int groupedPassRows, long cacheBytes, boolean split) {
    return new CudaFeaturizer.Options(passBytes, groupedPassRows, cacheBytes, 1, split);
  }

  static final CudaFeaturizer.Options ROOMY = options(1L << 30, 1 << 14, 1L << 30, true);

  static Stream<Arguments> cases() {
    int[] mixed = {3, 1, 4, 2, 9, 5, 1};
    return Stream.of(
        Arguments.of("per-example rademacher exact, 3 rows per pass", SMALL, ones(11), spec(Projection.Kind.RADEMACHER, 8, true,
            Featurizer.KernelKind.EXACT), 1, options(3 * (4L * 57 * 2 + 12 * 8), 1 << 14, 1L << 30, true)),
        Arguments.of("per-example rademacher exact, float32 projection", SMALL, ones(11), spec(Projection.Kind.RADEMACHER, 8, true,
            Featurizer.KernelKind.EXACT), 1, options(1L << 30, 1 << 14, 1L << 30, false)),
        Arguments.of("per-example gaussian sampled, P in chunks", WIDE, ones(13), spec(Projection.Kind.GAUSSIAN, 16, true,
            Featurizer.KernelKind.SAMPLED), 1, options(1L << 30, 1 << 14, 0, true)),
        Arguments.of("per-example rademacher, P in chunks, two slots", WIDE, ones(9), spec(Projection.Kind.RADEMACHER, 12, false,
            Featurizer.KernelKind.NONE), 2, options(1L << 30, 1 << 14, 0, true)),
        Arguments.of("per-example none, Gauss-Newton", SMALL, ones(7), spec(Projection.Kind.NONE, 0, false,
            Featurizer.KernelKind.GAUSS_NEWTON), 1, ROOMY),
        Arguments.of("per-example factored exact", DEEP, ones(8), spec(Projection.Kind.FACTORED, 40, true,
            Featurizer.KernelKind.EXACT), 1, ROOMY),
        Arguments.of("groups rademacher batched, groups chunked over passes of 4", SMALL, mixed, spec(Projection.Kind.RADEMACHER, 8,
            true, Featurizer.KernelKind.BATCHED), 1, options(1L << 30, 4, 1L << 30, true)),
        Arguments.of("groups gaussian sampled, two slots", WIDE, mixed, spec(Projection.Kind.GAUSSIAN, 10, true,
            Featurizer.KernelKind.SAMPLED), 2, ROOMY),
        Arguments.of("groups none, loss sums only", SMALL, mixed, spec(Projection.Kind.NONE, 0, false, Featurizer.KernelKind.NONE),
            1, ROOMY),
        Arguments.of("groups factored batched, two hidden layers", DEEP, mixed, spec(Projection.Kind.FACTORED, 40, true,
            Featurizer.KernelKind.BATCHED), 1, ROOMY),
        Arguments.of("groups rademacher Gauss-Newton, sigmoid", SIGMOID, mixed, spec(Projection.Kind.RADEMACHER, 6, false,
            Featurizer.KernelKind.GAUSS_NEWTON), 1, ROOMY),
        Arguments.of("groups rademacher exact, P in chunks, 5 rows per pass", WIDE, mixed, spec(Projection.Kind.RADEMACHER, 8, true,
            Featurizer.KernelKind.EXACT), 1, options(5 * (4L * 754 * 2 + 12 * 8), 1 << 14, 0, true)),
        Arguments.of("groups rademacher sampled, float32", SMALL, mixed, spec(Projection.Kind.RADEMACHER, 8, true,
            Featurizer.KernelKind.SAMPLED), 1, options(1L << 30, 1 << 14, 1L << 30, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void cudaBackendOnTheEmulatorGivesTheCpuBackendsOutput(String name, Architecture arch, int[] sizes, Featurizer.Spec spec,
      int slotCount, CudaFeaturizer.Options options) {
    Featurizer.Rows rows = rows(arch, sizes, sizes.length);
    List<Featurizer.Slot> slots = slots(arch, slotCount);
    Featurizer.Output cpu = Featurizer.CPU.featurize(arch, slots, spec, rows);
    EmulatedGpu gpu = new EmulatedGpu();
    CudaFeaturizer cuda = new CudaFeaturizer(gpu, options);
    Featurizer.Output out = cuda.featurize(arch, slots, spec, rows);
    int k = Featurizer.featureDim(arch, spec);
    Agreement.Report report = Agreement.outputs(cpu, out, k);
    assertTrue(report.within(TOLERANCE), name + ": " + report);
    // A second call reuses the scratch arrays and the cached P: the same answer.
    Featurizer.Output again = cuda.featurize(arch, slots, spec, rows);
    assertTrue(Agreement.outputs(out, again, k).within(0), "a repeated call differs: " + Agreement.outputs(out, again, k));
    cuda.close();
    assertEquals(0, gpu.live(), "device arrays left allocated after close");
  }

  @Test
  void theEmulatorsTf32LosesPrecisionThatTheSplitRecovers() {
    // The control for the split: one tf32 product of raw gradient rows is off by about 2^-12
    // relative, the two halves are not. If this failed, the emulator would not model tf32 and the
    // split cases above would prove nothing.
    EmulatedGpu gpu = new EmulatedGpu();
    int rows = 6;
    int p = 300;
    int k = 64;
    SplittableRandom rnd = new SplittableRandom(3);
    float[] g = new float[rows * p];
    for (int i = 0; i < g.length; i++) {
      g[i] = (float) rnd.nextGaussian();
    }
    Projection proj = new Projection(Projection.Kind.RADEMACHER, p, k, 1, 0, 0);
    float[] unit = new float[p * k];
    for (int r = 0; r < p; r++) {
      for (int c = 0; c < k; c++) {
        unit[r * k + c] = proj.entry(r, c) > 0 ? 1f : -1f;
      }
    }
    Gpu.Array gd = gpu.alloc(Gpu.Type.FLOAT, g.length);
    gpu.upload(g, 0, g.length, gd);
    Gpu.Array pd = gpu.alloc(Gpu.Type.FLOAT, unit.length);
    gpu.upload(unit, 0, unit.length, pd);
    float s = proj.rademacherScale();
    float[] exact = product(gpu, gd, null, pd, rows, p, k, s, Gpu.Precision.FP32);
    float[] tf32 = product(gpu, gd, null, pd, rows, p, k, s, Gpu.Precision.TF32);
    Gpu.Array lo = gpu.alloc(Gpu.Type.FLOAT, g.length);
    gpu.splitTf32(gd, gd, lo, g.length);
    float[] split = product(gpu, gd, lo, pd, rows, p, k, s, Gpu.Precision.TF32);
    double plain = Agreement.rows(exact, tf32, k);
    double recovered = Agreement.rows(exact, split, k);
    assertTrue(plain > 5e-5, "one tf32 product: " + plain);
    assertTrue(recovered < 1e-6, "split tf32: " + recovered);
  }

  private static float[] product(Gpu gpu, Gpu.Array g, Gpu.Array lo, Gpu.Array p, int rows, int width, int k, float alpha,
      Gpu.Precision precision) {
    Gpu.Array out = gpu.alloc(Gpu.Type.FLOAT, (long) rows * k);
    gpu.gemm(false, false, rows, k, width, alpha, g, width, p, k, 0f, out, k, precision);
    if (lo != null) {
      gpu.gemm(false, false, rows, k, width, alpha, lo, width, p, k, 1f, out, k, precision);
    }
    float[] v = new float[rows * k];
    gpu.download(out, v, 0, v.length);
    return v;
  }
}
