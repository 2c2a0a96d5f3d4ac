package dev.ggda.evaluation;

import java.util.Arrays;

/**
 * Rank and linear correlation, Spark-free. Ties get the average of the ranks they span (as scipy
 * does).
 */
public final class Correlation {
  private Correlation() {}

  /** 1-based ranks; tied values share the mean of their positions. */
  public static double[] averageRanks(double[] x) {
    int n = x.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(x[a], x[b]));
    double[] ranks = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && Double.compare(x[order[j + 1]], x[order[i]]) == 0) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1; // positions i..j, 1-based
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = rank;
      }
      i = j + 1;
    }
    return ranks;
  }

  /** Pearson's r; NaN when either side is constant (the correlation is undefined). */
  public static double pearson(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
    int n = a.length;
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < n; i++) {
      ma += a[i];
      mb += b[i];
    }
    ma /= n;
    mb /= n;
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < n; i++) {
      double da = a[i] - ma;
      double db = b[i] - mb;
      sab += da * db;
      saa += da * da;
      sbb += db * db;
    }
    if (saa == 0 || sbb == 0) {
      return Double.NaN;
    }
    return sab / Math.sqrt(saa * sbb);
  }

  /** Spearman's rho: Pearson's r of the average ranks. */
  public static double spearman(double[] a, double[] b) {
    return pearson(averageRanks(a), averageRanks(b));
  }

  /** Mean of the finite values; NaN when there are none. */
  public static double nanMean(double[] x) {
    double sum = 0;
    int count = 0;
    for (double v : x) {
      if (Double.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    return count == 0 ? Double.NaN : sum / count;
  }

  /** Sample standard deviation (n - 1); 0 for a single value. */
  public static double std(double[] x) {
    if (x.length < 2) {
      return 0;
    }
    double m = Arrays.stream(x).average().orElse(0);
    double s = 0;
    for (double v : x) {
      s += (v - m) * (v - m);
    }
    return Math.sqrt(s / (x.length - 1));
  }

  public static double mean(double[] x) {
    return Arrays.stream(x).average().orElse(Double.NaN);
  }
}
