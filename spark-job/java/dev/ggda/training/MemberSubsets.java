package dev.ggda.training;

import java.util.SplittableRandom;

/** Seeded choices that must be identical wherever they are recomputed (driver, executors, reruns). */
public final class MemberSubsets {
  private MemberSubsets() {}

  /** Stafford variant 13 of the 64-bit finaliser: a strong mix of (seed, salt) into a new seed. */
  public static long mix(long seed, long salt) {
    long z = seed + 0x9E3779B97F4A7C15L * (salt + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

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
    int[] perm = permutation(n, new SplittableRandom(mix(seed, 1000 + member)));
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
