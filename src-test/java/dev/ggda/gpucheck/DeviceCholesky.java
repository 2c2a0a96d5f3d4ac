package dev.ggda.gpucheck;

import dev.ggda.cuda.Gpu;

/**
 * Solves (K + lambda I) X = B in float64 on a {@link Gpu}, for the GPU check's TRAK scores (in a
 * ggda run the driver solves with LAPACK): a blocked right-looking Cholesky whose diagonal blocks
 * are factored and inverted on the host and whose panels, trailing updates and triangular solves
 * are GEMMs on the device. Row-major throughout.
 */
final class DeviceCholesky implements AutoCloseable {
  static final int BLOCK = 128;

  private final Gpu gpu;
  private final int n;

  /** L below the diagonal blocks (the diagonal blocks themselves live in diagInverse). */
  private final Gpu.Array lower;

  private final Gpu.Array[] diagInverse;

  private DeviceCholesky(Gpu gpu, int n, Gpu.Array lower, Gpu.Array[] diagInverse) {
    this.gpu = gpu;
    this.n = n;
    this.lower = lower;
    this.diagInverse = diagInverse;
  }

  /** Factors K + lambda I (K symmetric, n x n, row-major on the host). */
  static DeviceCholesky factor(Gpu gpu, double[] k, int n, double lambda) {
    double[] damped = k.clone();
    for (int i = 0; i < n; i++) {
      damped[i * n + i] += lambda;
    }
    Gpu.Array a = gpu.alloc(Gpu.Type.DOUBLE, (long) n * n);
    gpu.upload(damped, 0, damped.length, a);
    Gpu.Array lower = gpu.alloc(Gpu.Type.DOUBLE, (long) n * n);
    gpu.zero(lower, (long) n * n);
    int blocks = (n + BLOCK - 1) / BLOCK;
    Gpu.Array[] inverses = new Gpu.Array[blocks];
    for (int bi = 0; bi < blocks; bi++) {
      int j = bi * BLOCK;
      int jb = Math.min(BLOCK, n - j);
      double[] rows = new double[jb * n];
      gpu.download(a.at((long) j * n), rows, 0, rows.length);
      double[] d = new double[jb * jb];
      for (int r = 0; r < jb; r++) {
        System.arraycopy(rows, r * n + j, d, r * jb, jb);
      }
      double[] inv = invertLower(cholesky(d, jb, j), jb);
      inverses[bi] = gpu.alloc(Gpu.Type.DOUBLE, (long) jb * jb);
      gpu.upload(inv, 0, inv.length, inverses[bi]);
      int m = n - j - jb;
      if (m > 0) {
        // Panel: L[j+jb:, j:j+jb] = A[j+jb:, j:j+jb] L_jj^-T; trailing: A[j+jb:, j+jb:] -= panel
        // panel^T.
        Gpu.Array panel = lower.at((long) (j + jb) * n + j);
        gpu.dgemm(
            false,
            true,
            m,
            jb,
            jb,
            1.0,
            a.at((long) (j + jb) * n + j),
            n,
            inverses[bi],
            jb,
            0.0,
            panel,
            n);
        gpu.dgemm(
            false,
            true,
            m,
            m,
            jb,
            -1.0,
            panel,
            n,
            panel,
            n,
            1.0,
            a.at((long) (j + jb) * n + j + jb),
            n);
      }
    }
    gpu.free(a);
    return new DeviceCholesky(gpu, n, lower, inverses);
  }

  /**
   * X (n x t, row-major, on the device, caller frees) for B (n x t, row-major, on the device;
   * overwritten).
   */
  Gpu.Array solve(Gpu.Array b, int t) {
    Gpu.Array y = gpu.alloc(Gpu.Type.DOUBLE, (long) n * t);
    Gpu.Array x = gpu.alloc(Gpu.Type.DOUBLE, (long) n * t);
    int blocks = diagInverse.length;
    for (int bi = 0; bi < blocks; bi++) {
      int j = bi * BLOCK;
      int jb = Math.min(BLOCK, n - j);
      if (j > 0) {
        gpu.dgemm(
            false,
            false,
            jb,
            t,
            j,
            -1.0,
            lower.at((long) j * n),
            n,
            y,
            t,
            1.0,
            b.at((long) j * t),
            t);
      }
      gpu.dgemm(
          false,
          false,
          jb,
          t,
          jb,
          1.0,
          diagInverse[bi],
          jb,
          b.at((long) j * t),
          t,
          0.0,
          y.at((long) j * t),
          t);
    }
    for (int bi = blocks - 1; bi >= 0; bi--) {
      int j = bi * BLOCK;
      int jb = Math.min(BLOCK, n - j);
      int m = n - j - jb;
      if (m > 0) {
        gpu.dgemm(
            true,
            false,
            jb,
            t,
            m,
            -1.0,
            lower.at((long) (j + jb) * n + j),
            n,
            x.at((long) (j + jb) * t),
            t,
            1.0,
            y.at((long) j * t),
            t);
      }
      gpu.dgemm(
          true,
          false,
          jb,
          t,
          jb,
          1.0,
          diagInverse[bi],
          jb,
          y.at((long) j * t),
          t,
          0.0,
          x.at((long) j * t),
          t);
    }
    gpu.free(y);
    return x;
  }

  /**
   * In-place lower Cholesky factor of a jb x jb block (row-major); offset names the block in
   * errors.
   */
  static double[] cholesky(double[] d, int m, int offset) {
    for (int c = 0; c < m; c++) {
      double s = d[c * m + c];
      for (int t = 0; t < c; t++) {
        s -= d[c * m + t] * d[c * m + t];
      }
      if (!(s > 0)) {
        throw new ArithmeticException(
            "kernel + damping is not positive definite at row " + (offset + c));
      }
      double diag = Math.sqrt(s);
      d[c * m + c] = diag;
      for (int r = c + 1; r < m; r++) {
        double v = d[r * m + c];
        for (int t = 0; t < c; t++) {
          v -= d[r * m + t] * d[c * m + t];
        }
        d[r * m + c] = v / diag;
      }
      for (int r = 0; r < c; r++) {
        d[r * m + c] = 0;
      }
    }
    return d;
  }

  /** The inverse of a lower-triangular m x m matrix (row-major), by forward substitution. */
  static double[] invertLower(double[] l, int m) {
    double[] inv = new double[m * m];
    for (int c = 0; c < m; c++) {
      for (int r = c; r < m; r++) {
        double s = r == c ? 1 : 0;
        for (int t = c; t < r; t++) {
          s -= l[r * m + t] * inv[t * m + c];
        }
        inv[r * m + c] = s / l[r * m + r];
      }
    }
    return inv;
  }

  @Override
  public void close() {
    gpu.free(lower);
    for (Gpu.Array a : diagInverse) {
      gpu.free(a);
    }
  }
}
