package dev.ggda.training;

import dev.ggda.math.Seeds;
import java.util.SplittableRandom;

/**
 * Seeded choices that must be identical wherever they are recomputed (driver, executors, reruns).
 */
public final class MemberSubsets {
  private MemberSubsets() {}

  /**
   * Rows (indices into 0..n-1, ascending) that member m trains on: all rows when there is one
   * member, otherwise a seeded sample of round(fraction * n) rows without replacement.
   */
  public static int[] rows(int n, int members, int member, double fraction, long seed) {
    if (members == 1 || fraction >= 1.0) {
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      return all;
    }
    int k = Math.max(1, (int) Math.round(fraction * n));
    int[] perm = permutation(n, new SplittableRandom(Seeds.mix(seed, 1000 + member)));
    int[] chosen = java.util.Arrays.copyOf(perm, k);
    java.util.Arrays.sort(chosen);
    return chosen;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  public static int[] permutation(int n, SplittableRandom rnd) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
