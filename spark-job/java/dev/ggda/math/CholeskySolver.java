package dev.ggda.math;

import org.bytedeco.openblas.global.openblas;

/**
 * Solves (A + damping I) X = B for a symmetric positive semi-definite A in float64 by Cholesky
 * (LAPACKE dpotrf/dpotrs of the OpenBLAS that ND4J ships: native and multithreaded, where Spark's
 * netlib falls back to pure Java on hosts without a system LAPACK). When the damped matrix is still
 * not numerically positive definite (duplicate groups, k above the number of examples or groups),
 * the damping falls back to 0.1 x the mean diagonal (= 0.1 x the mean eigenvalue, kronfluence's
 * default heuristic) and is raised tenfold from there until the factorisation succeeds. A
 * barely-positive damping would keep the solve so ill-conditioned that scores become huge and
 * rounding-sensitive; the damping actually used is reported so the caller can warn.
 */
public final class CholeskySolver {
  /**
   * Fallback damping, relative to the mean diagonal, for matrices that are not positive definite.
   */
  public static final double FALLBACK_DAMPING = 0.1;

  private static final int COLUMN_MAJOR = openblas.LAPACK_COL_MAJOR;
  private static final byte LOWER = (byte) 'L';

  private final int n;
  private final double[] factor;
  private final double damping;

  private CholeskySolver(int n, double[] factor, double damping) {
    this.n = n;
    this.factor = factor;
    this.damping = damping;
  }

  /**
   * @param a n x n symmetric matrix (row- or column-major: the same for a symmetric matrix); not
   *     modified
   */
  public static CholeskySolver factor(double[] a, int n, double damping) {
    if (a.length != (long) n * n) {
      throw new IllegalArgumentException(
          "matrix has " + a.length + " entries, expected " + n + "x" + n);
    }
    double trace = 0;
    for (int i = 0; i < n; i++) {
      trace += a[i * n + i];
    }
    double floor = Math.max(Math.abs(trace) / Math.max(n, 1), Double.MIN_NORMAL) * FALLBACK_DAMPING;
    double d = damping;
    for (int attempt = 0; attempt < 40; attempt++) {
      double[] f = a.clone();
      for (int i = 0; i < n; i++) {
        f[i * n + i] += d;
      }
      double norm1 = openblas.LAPACKE_dlansy(COLUMN_MAJOR, (byte) '1', LOWER, n, f, n);
      int info = openblas.LAPACKE_dpotrf(COLUMN_MAJOR, LOWER, n, f, n);
      if (info == 0 && allFinite(f) && !numericallySingular(f, n, norm1)) {
        return new CholeskySolver(n, f, d);
      }
      d = d <= 0 ? floor : Math.max(d * 10, floor);
    }
    throw new ArithmeticException(
        "matrix is not positive definite even with damping " + d + "; it holds NaN or Inf");
  }

  /**
   * dpotrf succeeds on many singular PSD matrices (rounding leaves tiny positive pivots, and
   * solutions of size 1e16 follow), so a successful factorisation is also required to have an
   * estimated reciprocal condition number (dpocon) of at least n * eps: below that no digit of a
   * solution means anything, and the matrix is treated as not positive definite.
   */
  private static boolean numericallySingular(double[] factor, int n, double norm1) {
    double[] rcond = new double[1];
    int info = openblas.LAPACKE_dpocon(COLUMN_MAJOR, LOWER, n, factor, n, norm1, rcond);
    return info != 0 || !(rcond[0] >= n * Math.ulp(1.0));
  }

  private static boolean allFinite(double[] v) {
    for (double x : v) {
      if (!Double.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  public int size() {
    return n;
  }

  /** The damping the factorisation needed (>= the one asked for). */
  public double damping() {
    return damping;
  }

  /** Solves for r right-hand sides given column-major (n x r); returns X column-major. */
  public double[] solve(double[] b, int r) {
    if (b.length != (long) n * r) {
      throw new IllegalArgumentException(
          "right-hand side has " + b.length + " entries, expected " + n + "x" + r);
    }
    double[] x = b.clone();
    int info = openblas.LAPACKE_dpotrs(COLUMN_MAJOR, LOWER, n, r, factor, n, x, n);
    if (info != 0) {
      throw new ArithmeticException("dpotrs failed with info " + info);
    }
    return x;
  }
}
