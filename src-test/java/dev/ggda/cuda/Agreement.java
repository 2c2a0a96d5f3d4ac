package dev.ggda.cuda;

import dev.ggda.math.Featurizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How far one featurize output is from another (the CPU's): per-row relative L2 errors of the
 * features, relative Frobenius error of the kernels, exact equality of ids, sizes and kernel
 * counts. Shared by the emulated and GPU tests and by the GPU check.
 */
public final class Agreement {
  private Agreement() {}

  /**
   * Largest ||a_r - e_r|| / ||e_r|| over the rows (k wide); a row whose norm is below a thousandth
   * of the mean row norm is measured against that instead (an all-zero gradient has no relative
   * error).
   */
  public static double rows(float[] expected, float[] actual, int k) {
    if (expected.length != actual.length) {
      return Double.POSITIVE_INFINITY;
    }
    int n = expected.length / Math.max(1, k);
    double[] norms = new double[n];
    double mean = 0;
    for (int r = 0; r < n; r++) {
      double s = 0;
      for (int c = 0; c < k; c++) {
        s += (double) expected[r * k + c] * expected[r * k + c];
      }
      norms[r] = Math.sqrt(s);
      mean += norms[r] / n;
    }
    double worst = 0;
    for (int r = 0; r < n; r++) {
      double s = 0;
      for (int c = 0; c < k; c++) {
        double diff = (double) actual[r * k + c] - expected[r * k + c];
        s += diff * diff;
      }
      double err = Math.sqrt(s) / Math.max(norms[r], Math.max(1e-3 * mean, Double.MIN_NORMAL));
      worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : Math.max(worst, err);
    }
    return worst;
  }

  /** ||a - e||_F / ||e||_F. */
  public static double relative(double[] expected, double[] actual) {
    if (expected.length != actual.length) {
      return Double.POSITIVE_INFINITY;
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < expected.length; i++) {
      double diff = actual[i] - expected[i];
      num += diff * diff;
      den += expected[i] * expected[i];
    }
    double err = Math.sqrt(num) / Math.max(Math.sqrt(den), Double.MIN_NORMAL);
    return Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
  }

  /** The worst error of every part of two outputs and what differs outright. */
  public record Report(double worst, List<String> lines) {
    public boolean within(double tolerance) {
      return worst <= tolerance;
    }

    @Override
    public String toString() {
      return String.join("; ", lines);
    }
  }

  /** Compares {@code actual} with {@code expected} slot by slot; k is the feature width. */
  public static Report outputs(Featurizer.Output expected, Featurizer.Output actual, int k) {
    List<String> lines = new ArrayList<>();
    double worst = 0;
    if (!Arrays.equals(expected.groupIds(), actual.groupIds())
        || !Arrays.equals(expected.sizes(), actual.sizes())) {
      lines.add("group ids or sizes differ");
      worst = Double.POSITIVE_INFINITY;
    }
    if (!Arrays.equals(expected.kernelRows(), actual.kernelRows())) {
      lines.add(
          "kernel rows "
              + Arrays.toString(actual.kernelRows())
              + ", expected "
              + Arrays.toString(expected.kernelRows()));
      worst = Double.POSITIVE_INFINITY;
    }
    for (int s = 0; s < expected.loss().length; s++) {
      double loss = rows(expected.loss()[s], actual.loss()[s], k);
      lines.add(String.format("slot %d loss %.2e", s, loss));
      worst = Math.max(worst, loss);
      if (expected.margin() != null) {
        double margin =
            actual.margin() == null
                ? Double.POSITIVE_INFINITY
                : rows(expected.margin()[s], actual.margin()[s], k);
        lines.add(String.format("margin %.2e", margin));
        worst = Math.max(worst, margin);
      }
      if (expected.qSums() != null) {
        double q =
            actual.qSums() == null
                ? Double.POSITIVE_INFINITY
                : rows(expected.qSums()[s], actual.qSums()[s], 1);
        lines.add(String.format("Q sums %.2e", q));
        worst = Math.max(worst, q);
      }
      if (expected.kernel() != null) {
        double kernel =
            actual.kernel() == null
                ? Double.POSITIVE_INFINITY
                : relative(expected.kernel()[s], actual.kernel()[s]);
        lines.add(String.format("kernel %.2e", kernel));
        worst = Math.max(worst, kernel);
      }
    }
    return new Report(worst, lines);
  }
}
