package dev.ggda.math;

/**
 * Derives independent seeds from (seed, salt) pairs: the root of every seeded choice that must be
 * identical wherever it is recomputed (driver, executors, task retries, reruns).
 */
public final class Seeds {
  private Seeds() {}

  /**
   * Stafford's variant 13 of the SplitMix64 finaliser applied to seed + golden-ratio * (salt + 1).
   */
  public static long mix(long seed, long salt) {
    long z = seed + 0x9E3779B97F4A7C15L * (salt + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A uniform double in [0, 1) from a mixed seed. */
  public static double unit(long mixed) {
    return (mixed >>> 11) * 0x1.0p-53;
  }
}
