package dev.ggda.grouping;

import java.util.Arrays;

/** Splits a number of groups over parts (classes, coarse clusters) in proportion to their sizes. */
final class Allocation {
  private Allocation() {}

  /**
   * Largest-remainder apportionment of {@code groups} over parts of the given sizes: every
   * non-empty part gets at least 1 and at most its size, empty parts 0, and the total is exactly
   * {@code groups} whenever {@code nonEmptyParts <= groups <= sum(sizes)} (otherwise as close as
   * those bounds allow). Deterministic: ties go to the lower index.
   */
  static long[] proportional(long[] sizes, long groups) {
    long total = Arrays.stream(sizes).sum();
    long[] k = new long[sizes.length];
    double[] quota = new double[sizes.length];
    long given = 0;
    for (int j = 0; j < sizes.length; j++) {
      if (sizes[j] > 0) {
        quota[j] = (double) groups * sizes[j] / total;
        k[j] = Math.min(sizes[j], Math.max(1, (long) Math.floor(quota[j])));
        given += k[j];
      }
    }
    // The floor of 1 can overshoot: take back from the parts most above their quota.
    while (given > groups) {
      int j = pick(sizes, k, quota, false);
      if (j < 0) {
        break;
      }
      k[j]--;
      given--;
    }
    // Hand out the rest to the parts most below their quota.
    while (given < groups) {
      int j = pick(sizes, k, quota, true);
      if (j < 0) {
        break;
      }
      k[j]++;
      given++;
    }
    return k;
  }

  /**
   * The part furthest below (grow) or above (shrink) its quota that can still change; -1 if none.
   */
  private static int pick(long[] sizes, long[] k, double[] quota, boolean grow) {
    int best = -1;
    double bestGap = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < sizes.length; j++) {
      boolean can = grow ? k[j] < sizes[j] : k[j] > 1;
      double gap = grow ? quota[j] - k[j] : k[j] - quota[j];
      if (can && gap > bestGap) {
        bestGap = gap;
        best = j;
      }
    }
    return best;
  }
}
