package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CholeskySolverTest {

  @Test
  void solvesARandomPositiveDefiniteSystem() {
    int n = 30;
    int r = 3;
    double[] a = gram(GaussNewtonFixtures.randomMatrix(n, n, 300), 1.0);
    double[] xTrue = GaussNewtonFixtures.flatten(GaussNewtonFixtures.randomMatrix(r, n, 301));
    CholeskySolver solver = CholeskySolver.factor(a, n, 0.0);
    assertEquals(0.0, solver.damping());
    double[] x = solver.solve(times(a, n, xTrue, r, 0.0), r);
    double err = GaussNewtonFixtures.relativeError(x, xTrue);
    assertTrue(err < 1e-10, "relative error " + err);
  }

  @Test
  void appliesTheRequestedDamping() {
    int n = 12;
    double[] a = gram(GaussNewtonFixtures.randomMatrix(n, n, 310), 0.0);
    double[] xTrue = GaussNewtonFixtures.flatten(GaussNewtonFixtures.randomMatrix(1, n, 311));
    CholeskySolver solver = CholeskySolver.factor(a, n, 0.5);
    assertEquals(0.5, solver.damping());
    double[] x = solver.solve(times(a, n, xTrue, 1, 0.5), 1);
    assertTrue(GaussNewtonFixtures.relativeError(x, xTrue) < 1e-10);
  }

  @Test
  void singularGramMatricesGetRaisedDampingAndFiniteSolutions() {
    // M M^T with M of shape n x rank < n: positive semi-definite and singular. Rounding often lets
    // dpotrf succeed on these with tiny pivots, so several seeds and ranks are tried.
    for (int n : new int[] {10, 30}) {
      for (int rank : new int[] {2, n - 1}) {
        for (long seed = 0; seed < 10; seed++) {
          String what = "n=" + n + " rank=" + rank + " seed=" + seed;
          double[][] m = GaussNewtonFixtures.randomMatrix(n, rank, 1000 * n + 10 * rank + seed);
          double[] a = gram(m, 0.0);
          CholeskySolver solver = CholeskySolver.factor(a, n, 0.0);
          assertTrue(solver.damping() > 0, what + ": damping " + solver.damping());
          double[] b = GaussNewtonFixtures.flatten(GaussNewtonFixtures.randomMatrix(1, n, seed));
          double[] x = solver.solve(b, 1);
          for (double v : x) {
            assertTrue(Double.isFinite(v), what);
          }
          // x solves the system with the damping actually used, up to a backward-stable residual.
          double[] back = times(a, n, x, 1, solver.damping());
          double residual = 0;
          for (int i = 0; i < n; i++) {
            residual = Math.max(residual, Math.abs(back[i] - b[i]));
          }
          double scale = (maxAbs(a) * n + solver.damping()) * maxAbs(x) + maxAbs(b);
          assertTrue(residual / scale < 1e-12, what + ": backward error " + residual / scale);
        }
      }
    }
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  @Test
  void rejectsAWrongSizeAndNonFiniteMatrices() {
    assertThrows(
        IllegalArgumentException.class, () -> CholeskySolver.factor(new double[5], 2, 0.0));
    double[] nan = {1, 0, 0, Double.NaN};
    assertThrows(ArithmeticException.class, () -> CholeskySolver.factor(nan, 2, 0.0));
  }

  /** M M^T + shift I, row-major. */
  private static double[] gram(double[][] m, double shift) {
    int n = m.length;
    double[] a = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < m[0].length; k++) {
          a[i * n + j] += m[i][k] * m[j][k];
        }
      }
      a[i * n + i] += shift;
    }
    return a;
  }

  /** (A + damping I) X for column-major X (n x r). */
  private static double[] times(double[] a, int n, double[] x, int r, double damping) {
    double[] out = new double[n * r];
    for (int c = 0; c < r; c++) {
      for (int i = 0; i < n; i++) {
        double s = damping * x[c * n + i];
        for (int k = 0; k < n; k++) {
          s += a[i * n + k] * x[c * n + k];
        }
        out[c * n + i] = s;
      }
    }
    return out;
  }
}
