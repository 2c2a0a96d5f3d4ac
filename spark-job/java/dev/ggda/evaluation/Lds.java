package dev.ggda.evaluation;

/**
 * The linear datamodeling score (TRAK, Park et al. 2023; dattri): for each target, Spearman's rho
 * between the attribution's prediction for each training subset (the sum of the scores of what the
 * subset keeps) and the target's margin after retraining on that subset; LDS is the mean over
 * targets. Targets whose rho is undefined (a constant side) are left out of the mean, as dattri's
 * nanmean does.
 */
public final class Lds {
  private Lds() {}

  /**
   * @param predicted predicted[subset][target]
   * @param actual actual[subset][target], the retrained model output
   * @return rho per target
   */
  public static double[] perTarget(double[][] predicted, double[][] actual) {
    int m = predicted.length;
    if (m != actual.length || m < 2) {
      throw new IllegalArgumentException(
          "need the same number (>= 2) of subsets on both sides, got "
              + m
              + " and "
              + actual.length);
    }
    int targets = predicted[0].length;
    double[] rho = new double[targets];
    double[] p = new double[m];
    double[] a = new double[m];
    for (int t = 0; t < targets; t++) {
      for (int j = 0; j < m; j++) {
        p[j] = predicted[j][t];
        a[j] = actual[j][t];
      }
      rho[t] = Correlation.spearman(p, a);
    }
    return rho;
  }

  /**
   * The predictions of subsets from per-example scores: predicted[j][t] = sum over the examples i
   * of subset j of scores[t][i]. Reference implementation on a dense score matrix (tests, small
   * data); the job computes the same sums on the executors ({@link SubsetScoreSums}).
   */
  public static double[][] predict(double[][] scores, int[][] subsets) {
    double[][] out = new double[subsets.length][scores.length];
    for (int j = 0; j < subsets.length; j++) {
      for (int t = 0; t < scores.length; t++) {
        double s = 0;
        for (int i : subsets[j]) {
          s += scores[t][i];
        }
        out[j][t] = s;
      }
    }
    return out;
  }
}
