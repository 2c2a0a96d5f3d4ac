package dev.ggda.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ggda.cuda.EmulatedGpu;
import dev.ggda.cuda.Gpu;
import dev.ggda.math.CholeskySolver;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DeviceCholeskyTest {
  /** n = 300: two full 128-row blocks and a partial one. */
  @Test
  void solvesLikeLapack() {
    int n = 300;
    int t = 5;
    SplittableRandom rnd = new SplittableRandom(4);
    double[] g = new double[n * 40];
    for (int i = 0; i < g.length; i++) {
      g[i] = rnd.nextGaussian();
    }
    double[] k = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int c = 0; c < 40; c++) {
          s += g[i * 40 + c] * g[j * 40 + c];
        }
        k[i * n + j] = s;
      }
    }
    double lambda = 0.5;
    double[] bRowMajor = new double[n * t];
    double[] bColMajor = new double[n * t];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < t; c++) {
        double v = rnd.nextGaussian();
        bRowMajor[i * t + c] = v;
        bColMajor[c * n + i] = v;
      }
    }
    double[] expected = CholeskySolver.factor(k, n, lambda).solve(bColMajor, t);
    EmulatedGpu gpu = new EmulatedGpu();
    Gpu.Array b = gpu.alloc(Gpu.Type.DOUBLE, n * t);
    gpu.upload(bRowMajor, 0, bRowMajor.length, b);
    try (DeviceCholesky chol = DeviceCholesky.factor(gpu, k, n, lambda)) {
      Gpu.Array x = chol.solve(b, t);
      double[] got = new double[n * t];
      gpu.download(x, got, 0, got.length);
      gpu.free(x);
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < t; c++) {
          double e = expected[c * n + i];
          assertEquals(
              e, got[i * t + c], 1e-9 * Math.max(1, Math.abs(e)), "x[" + i + "," + c + "]");
        }
      }
    }
    gpu.free(b);
    assertEquals(0, gpu.live());
  }

  @Test
  void aMatrixThatIsNotPositiveDefiniteIsRefused() {
    double[] k = {1, 2, 2, 1};
    assertThrows(
        ArithmeticException.class, () -> DeviceCholesky.factor(new EmulatedGpu(), k, 2, 0));
  }
}
