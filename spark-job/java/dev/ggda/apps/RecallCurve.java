package dev.ggda.apps;

import java.util.Arrays;

/**
 * Recall of a set of positives (e.g. flipped labels) against the fraction of a ranked list that is
 * inspected, from the 1-based ranks of the positives alone (so a list of n items costs O(m) memory
 * for m positives). Spark-free.
 *
 * <p>recall(k) = (positives ranked at most k) / m after inspecting the first k of n items; the
 * curve is that step function at k = 0..n joined by straight lines, and {@link #auc()} is its exact
 * area over the inspected fraction k / n in [0, 1]: sum over positives of (n - rank + 1/2) / (m n).
 * A random ranking has an expected AUC of 1/2, a perfect one 1 - m / (2n).
 */
public final class RecallCurve {
  private final long[] ranks;
  private final long n;

  /**
   * @param positiveRanks 1-based ranks of the positives in the list, distinct, each in [1, n]
   * @param n length of the ranked list
   */
  public RecallCurve(long[] positiveRanks, long n) {
    if (n < 1) {
      throw new IllegalArgumentException("empty ranked list");
    }
    if (positiveRanks.length == 0) {
      throw new IllegalArgumentException("recall needs at least one positive");
    }
    long[] r = positiveRanks.clone();
    Arrays.sort(r);
    for (int i = 0; i < r.length; i++) {
      if (r[i] < 1 || r[i] > n || (i > 0 && r[i] == r[i - 1])) {
        throw new IllegalArgumentException(
            "positive ranks must be distinct and in [1, " + n + "], got " + r[i]);
      }
    }
    this.ranks = r;
    this.n = n;
  }

  public long size() {
    return n;
  }

  public int positives() {
    return ranks.length;
  }

  /** Recall after inspecting the first {@code k} items. */
  public double recallAtCount(long k) {
    if (k <= 0) {
      return 0;
    }
    int i = Arrays.binarySearch(ranks, Math.min(k, n));
    int found = i >= 0 ? i + 1 : -i - 1;
    return (double) found / ranks.length;
  }

  /** Items inspected for a fraction: round(fraction * n), within [0, n]. */
  public long count(double fraction) {
    return Math.max(0, Math.min(n, Math.round(fraction * n)));
  }

  /** Recall after inspecting round(fraction * n) items. */
  public double recallAt(double fraction) {
    return recallAtCount(count(fraction));
  }

  /** Exact area under the piecewise-linear recall curve over the inspected fraction in [0, 1]. */
  public double auc() {
    double sum = 0;
    for (long r : ranks) {
      sum += (n - r) + 0.5;
    }
    return sum / ((double) ranks.length * n);
  }

  /** The fractions 0, 1/(points-1), ..., 1 at which the curve is tabulated. */
  public static double[] grid(int points) {
    if (points < 2) {
      throw new IllegalArgumentException("a curve needs at least 2 points");
    }
    double[] f = new double[points];
    for (int i = 0; i < points; i++) {
      f[i] = (double) i / (points - 1);
    }
    return f;
  }
}
