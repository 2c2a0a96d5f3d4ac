package dev.ggda.data;

/**
 * SplitMix64 (Steele, Lea, Flood 2014): a tiny counter-based generator. Written out here rather
 * than using {@link java.util.SplittableRandom} so the streams (and Gaussians, via StrictMath) are
 * fixed by this code alone, not by the JDK of whichever executor runs it.
 */
final class SplitMix64 {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private long state;
  private double spare;
  private boolean hasSpare;

  SplitMix64(long seed) {
    this.state = seed;
  }

  /** A stream keyed by several values (e.g. seed, role, example id); order of keys matters. */
  static SplitMix64 keyed(long... keys) {
    long h = 0x5DEECE66DL;
    for (long k : keys) h = mix(h + GOLDEN + k);
    return new SplitMix64(h);
  }

  /** The SplitMix64 finaliser: a bijective avalanche of all 64 bits. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound); the bias of the multiply-shift is below 2^-32 for int bounds. */
  int nextInt(int bound) {
    return (int) (((nextLong() >>> 32) * bound) >>> 32);
  }

  /** Standard normal by Box-Muller; the pair's second value is kept for the next call. */
  double nextGaussian() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double r = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - nextDouble())); // 1 - u in (0, 1]
    double theta = 2.0 * Math.PI * nextDouble();
    spare = r * StrictMath.sin(theta);
    hasSpare = true;
    return r * StrictMath.cos(theta);
  }
}
