package dev.ggda.evaluation;

import dev.ggda.math.Seeds;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded random subsets (partial Fisher-Yates), sorted, independent of any partitioning. */
public final class Subsets {
  private Subsets() {}

  /**
   * {@code size} distinct values of 0..n-1, sorted; subset {@code index} of stream {@code seed}.
   */
  public static int[] sample(int n, int size, long seed, long index) {
    if (size < 0 || size > n) {
      throw new IllegalArgumentException("subset size " + size + " outside [0, " + n + "]");
    }
    SplittableRandom r = new SplittableRandom(Seeds.mix(seed, index));
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    for (int i = 0; i < size; i++) {
      int j = i + r.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] out = Arrays.copyOf(perm, size);
    Arrays.sort(out);
    return out;
  }

  /** 0..n-1 without the sorted values in {@code removed}. */
  public static int[] complement(int n, int[] removed) {
    boolean[] gone = new boolean[n];
    for (int r : removed) {
      gone[r] = true;
    }
    int[] out = new int[n - removed.length];
    int k = 0;
    for (int i = 0; i < n; i++) {
      if (!gone[i]) {
        out[k++] = i;
      }
    }
    return out;
  }

  public static int[] all(int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }
}
