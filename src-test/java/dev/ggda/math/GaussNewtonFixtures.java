package dev.ggda.math;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Small seeded float64 networks, batches and matrix helpers shared by the Gauss-Newton/CG tests.
 */
final class GaussNewtonFixtures {
  private GaussNewtonFixtures() {}

  /** Every parameter (biases included, unlike Network.initialise) drawn uniform in +-scale. */
  static Network randomNetwork(Architecture arch, long seed, double scale) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] flat = new double[Math.toIntExact(arch.paramCount())];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = (2 * rnd.nextDouble() - 1) * scale;
    }
    return Network.fromDoubles(arch, flat);
  }

  static GaussNewton.Batch randomBatch(int n, int inputDim, int classes, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[][] x = new double[n][inputDim];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < inputDim; j++) {
        x[i][j] = rnd.nextGaussian();
      }
      y[i] = rnd.nextInt(classes);
    }
    return new GaussNewton.Batch(Nd4j.createFromArray(x), y);
  }

  static double[][] randomMatrix(int rows, int cols, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[][] m = new double[rows][cols];
    for (double[] row : m) {
      for (int j = 0; j < cols; j++) {
        row[j] = rnd.nextGaussian();
      }
    }
    return m;
  }

  /** sum over the batches of sum_i J_i^T Lambda_i J_i, dense p x p row-major. */
  static double[] denseGaussNewton(Network net, GaussNewton.Batch... batches) {
    int p = Math.toIntExact(net.architecture().paramCount());
    double[] h = new double[p * p];
    for (GaussNewton.Batch b : batches) {
      GaussNewton.accumulateHessian(net, b.features(), b.labels(), h);
    }
    return h;
  }

  /** Row-major p x p times p x r, plain loops. */
  static double[][] multiply(double[] a, int p, double[][] b) {
    int r = b[0].length;
    double[][] out = new double[p][r];
    for (int i = 0; i < p; i++) {
      for (int k = 0; k < p; k++) {
        double aik = a[i * p + k];
        for (int j = 0; j < r; j++) {
          out[i][j] += aik * b[k][j];
        }
      }
    }
    return out;
  }

  static INDArray toArray(double[][] m) {
    return Nd4j.createFromArray(m).castTo(DataType.DOUBLE);
  }

  /** max |a - b| / max |b|: a relative error that does not blow up on near-zero entries. */
  static double relativeError(double[] a, double[] b) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return diff / scale;
  }

  static double relativeError(double[][] a, double[][] b) {
    return relativeError(flatten(a), flatten(b));
  }

  static double[] flatten(double[][] m) {
    int cols = m[0].length;
    double[] out = new double[m.length * cols];
    for (int i = 0; i < m.length; i++) {
      System.arraycopy(m[i], 0, out, i * cols, cols);
    }
    return out;
  }
}
