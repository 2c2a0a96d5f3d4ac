package dev.ggda.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Projection;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuda backend's computation, run on {@link EmulatedGpu}, gives the CPU backend's features and
 * kernels: every projection kind, every kernel, per-example and grouped rows, several passes,
 * groups chunked across passes, P cached or generated chunk by chunk, split tf32 or float32
 * projections, several slots. What this cannot check (the CUDA C and the JavaCPP calls) the GPU
 * test does.
 */
class CudaFeaturizerEmulatedTest {
  /** Emulated float32 against ND4J float32: only summation order differs. */
  static final double TOLERANCE = 1e-5;

  static java.util.List<FeaturizeCases.Case> cases() {
    return FeaturizeCases.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void cudaBackendOnTheEmulatorGivesTheCpuBackendsOutput(FeaturizeCases.Case c) {
    Architecture arch = c.arch();
    Featurizer.Rows rows = c.rows();
    List<Featurizer.Slot> slots = c.slotList();
    Featurizer.Output cpu = Featurizer.CPU.featurize(arch, slots, c.spec(), rows);
    EmulatedGpu gpu = new EmulatedGpu();
    CudaFeaturizer cuda = new CudaFeaturizer(gpu, c.options());
    Featurizer.Output out = cuda.featurize(arch, slots, c.spec(), rows);
    int k = c.k();
    Agreement.Report report = Agreement.outputs(cpu, out, k);
    assertTrue(report.within(TOLERANCE), c + ": " + report);
    // A second call reuses the scratch arrays and the cached P: the same answer.
    Featurizer.Output again = cuda.featurize(arch, slots, c.spec(), rows);
    assertTrue(
        Agreement.outputs(out, again, k).within(0),
        "a repeated call differs: " + Agreement.outputs(out, again, k));
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
    Projection proj = new Projection(ProjectionKind.RADEMACHER, p, k, 1, 0, 0);
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

  private static float[] product(
      Gpu gpu,
      Gpu.Array g,
      Gpu.Array lo,
      Gpu.Array p,
      int rows,
      int width,
      int k,
      float alpha,
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
