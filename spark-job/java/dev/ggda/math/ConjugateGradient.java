package dev.ggda.math;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Conjugate gradients for A X = B with A symmetric positive definite, one independent CG recurrence
 * per column of B (block-diagonal: each column has its own step sizes), but with all still-active
 * columns advanced in lockstep so that each iteration makes ONE call to the operator. In production
 * the operator is a distributed pass over the training data, so the number of passes equals the
 * number of iterations, whatever the number of right-hand sides.
 *
 * <p>Starts from X = 0. A column stops when its relative residual ||b - A x|| / ||b|| falls to the
 * tolerance (it is then no longer sent to the operator), when the iteration bound is reached, or on
 * breakdown (p^T A p not positive and finite: A is not SPD in working precision). The residuals
 * reported are those of the CG recurrence; {@link #relativeResiduals} recomputes true ones at the
 * cost of one more operator call. All arithmetic is sequential plain Java in a fixed order, so a
 * deterministic operator gives bit-identical results.
 */
public final class ConjugateGradient {
  private ConjugateGradient() {}

  /**
   * A symmetric positive definite linear map, applied to several vectors at once. Vectors travel as
   * {@code double[]} (not INDArray) so an implementation can ship them to executors as they are.
   */
  @FunctionalInterface
  public interface LinearOperator {
    /**
     * @param columns columns[j] is the j-th input vector; must not be modified
     * @return A columns[j] for every j, in the same order and of the same length
     */
    double[][] apply(double[][] columns);
  }

  /** How a column's recurrence ended. */
  public enum Status {
    CONVERGED,
    MAX_ITERATIONS,
    /** p^T A p was not positive and finite: the operator is not SPD (or overflowed). */
    BREAKDOWN
  }

  /**
   * @param solutions solutions[j] solves A x = b_j (as far as {@code statuses[j]} says)
   * @param iterations operator calls made: passes over the data in production
   * @param columnIterations CG steps taken by each column
   * @param relativeResiduals final ||r_j|| / ||b_j|| of each column's recurrence (0 for b_j = 0)
   */
  public record Solution(
      double[][] solutions,
      int iterations,
      int[] columnIterations,
      double[] relativeResiduals,
      Status[] statuses) {

    public boolean converged() {
      for (Status s : statuses) {
        if (s != Status.CONVERGED) {
          return false;
        }
      }
      return true;
    }

    public double maxRelativeResidual() {
      double m = 0;
      for (double r : relativeResiduals) {
        m = Math.max(m, r);
      }
      return m;
    }
  }

  /**
   * Solves A x_j = b_j for every column.
   *
   * @param b b[j] is the j-th right-hand side; all of one length
   * @param tolerance relative residual at which a column is done (> 0)
   * @param maxIterations bound on operator calls (>= 0)
   */
  public static Solution solve(
      LinearOperator a, double[][] b, double tolerance, int maxIterations) {
    if (!(tolerance > 0)) {
      throw new IllegalArgumentException("tolerance must be positive, got " + tolerance);
    }
    if (maxIterations < 0) {
      throw new IllegalArgumentException("maxIterations must be >= 0, got " + maxIterations);
    }
    int r = b.length;
    int dim = r == 0 ? 0 : b[0].length;
    double[][] x = new double[r][dim];
    double[][] res = new double[r][];
    double[][] dir = new double[r][];
    double[] rr = new double[r];
    double[] bNorm = new double[r];
    double[] relRes = new double[r];
    int[] steps = new int[r];
    Status[] status = new Status[r];
    List<Integer> active = new ArrayList<>();
    for (int j = 0; j < r; j++) {
      if (b[j].length != dim) {
        throw new IllegalArgumentException(
            "right-hand side " + j + " has length " + b[j].length + ", expected " + dim);
      }
      res[j] = b[j].clone();
      dir[j] = b[j].clone();
      rr[j] = dot(res[j], res[j]);
      bNorm[j] = Math.sqrt(rr[j]);
      // b = 0 is solved exactly by x = 0; otherwise the residual starts at 1.
      relRes[j] = bNorm[j] == 0 ? 0 : 1;
      if (relRes[j] <= tolerance) {
        status[j] = Status.CONVERGED;
      } else {
        status[j] = Status.MAX_ITERATIONS;
        active.add(j);
      }
    }

    int iterations = 0;
    while (!active.isEmpty() && iterations < maxIterations) {
      double[][] in = new double[active.size()][];
      for (int k = 0; k < in.length; k++) {
        in[k] = dir[active.get(k)];
      }
      double[][] out = a.apply(in);
      iterations++;
      checkShape(out, in.length, dim);
      List<Integer> still = new ArrayList<>();
      for (int k = 0; k < in.length; k++) {
        int j = active.get(k);
        double[] ap = out[k];
        double pap = dot(dir[j], ap);
        if (!(pap > 0) || !Double.isFinite(pap)) {
          status[j] = Status.BREAKDOWN;
          continue;
        }
        double alpha = rr[j] / pap;
        axpy(alpha, dir[j], x[j]);
        axpy(-alpha, ap, res[j]);
        double rrNew = dot(res[j], res[j]);
        steps[j]++;
        relRes[j] = Math.sqrt(rrNew) / bNorm[j];
        if (relRes[j] <= tolerance) {
          status[j] = Status.CONVERGED;
          continue;
        }
        // p <- r + beta p, in place (the operator has returned, so dir[j] is ours again).
        double beta = rrNew / rr[j];
        double[] p = dir[j];
        double[] rj = res[j];
        for (int i = 0; i < dim; i++) {
          p[i] = rj[i] + beta * p[i];
        }
        rr[j] = rrNew;
        still.add(j);
      }
      active = still;
    }
    return new Solution(x, iterations, steps, relRes, status);
  }

  /**
   * True relative residuals ||b_j - A x_j|| / ||b_j|| (0 where b_j = 0), with one operator call.
   */
  public static double[] relativeResiduals(LinearOperator a, double[][] b, double[][] x) {
    double[][] ax = a.apply(x);
    checkShape(ax, x.length, x.length == 0 ? 0 : x[0].length);
    double[] out = new double[b.length];
    for (int j = 0; j < b.length; j++) {
      double num = 0;
      for (int i = 0; i < b[j].length; i++) {
        double d = b[j][i] - ax[j][i];
        num += d * d;
      }
      double den = dot(b[j], b[j]);
      out[j] = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
    return out;
  }

  /**
   * The damped Gauss-Newton operator of the training objective over local batches, v -> (1/n) sum_i
   * J_i^T Lambda_i J_i v + (lambda + delta) v, with n the total number of rows in {@code batches}.
   * Products are computed in the network's data type and summed in float64. For tests and local
   * use; the distributed operator does the same sum with one batch per task.
   *
   * @param lambda the L2 coefficient of the training objective ({@code model.l2})
   * @param delta the extra damping of the solve ({@code attribute.damping})
   */
  public static LinearOperator gaussNewtonOperator(
      Network net, List<GaussNewton.Batch> batches, double lambda, double delta) {
    long n = 0;
    for (GaussNewton.Batch batch : batches) {
      n += batch.size();
    }
    if (n == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    double invN = 1.0 / n;
    double shift = lambda + delta;
    int p = Math.toIntExact(net.architecture().paramCount());
    return columns -> {
      int r = columns.length;
      if (r == 0) {
        return new double[0][];
      }
      INDArray v = toMatrix(columns, p).castTo(net.dataType());
      INDArray sum = Nd4j.zeros(DataType.DOUBLE, r, p);
      for (GaussNewton.Batch batch : batches) {
        sum.addi(
            GaussNewton.productSum(net, batch.features(), batch.labels(), v)
                .transpose()
                .castTo(DataType.DOUBLE));
      }
      double[] flat = GaussNewton.contiguous(sum);
      double[][] out = new double[r][p];
      for (int j = 0; j < r; j++) {
        for (int i = 0; i < p; i++) {
          out[j][i] = invN * flat[j * p + i] + shift * columns[j][i];
        }
      }
      return out;
    };
  }

  /** Columns (each of length p) as a p x r float64 matrix. */
  private static INDArray toMatrix(double[][] columns, int p) {
    int r = columns.length;
    double[] flat = new double[p * r];
    for (int j = 0; j < r; j++) {
      if (columns[j].length != p) {
        throw new IllegalArgumentException(
            "vector " + j + " has length " + columns[j].length + ", expected " + p);
      }
      for (int i = 0; i < p; i++) {
        flat[i * r + j] = columns[j][i];
      }
    }
    return Nd4j.create(flat, new long[] {p, r}, 'c');
  }

  private static void checkShape(double[][] out, int count, int dim) {
    if (out == null || out.length != count) {
      throw new IllegalStateException(
          "operator returned "
              + (out == null ? "null" : out.length + " vectors")
              + " for "
              + count);
    }
    for (double[] v : out) {
      if (v.length != dim) {
        throw new IllegalStateException(
            "operator returned a vector of length " + v.length + ", expected " + dim);
      }
    }
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** y += alpha x */
  private static void axpy(double alpha, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) {
      y[i] += alpha * x[i];
    }
  }
}
