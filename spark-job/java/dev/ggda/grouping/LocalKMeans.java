package dev.ggda.grouping;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Plain-Java k-means (k-means++ seeding, then Lloyd iterations) for the points of one coarse
 * cluster on an executor. Single-threaded with a fixed summation order, so the same points in the
 * same order with the same seed give the same clusters on every JVM.
 */
final class LocalKMeans {
  static final int MAX_ITERATIONS = 20;

  private LocalKMeans() {}

  /**
   * Clusters {@code n} points of dimension {@code d} (row-major in {@code x}) into at most {@code k}
   * clusters. Cluster indices are in [0, k); some may be unused (duplicate points), which is why
   * callers densify over the clusters that occur.
   *
   * @return the cluster of each point
   */
  static int[] cluster(double[] x, int n, int d, int k, long seed, int maxIterations) {
    int[] assign = new int[n];
    if (k >= n) {
      for (int i = 0; i < n; i++) {
        assign[i] = i;
      }
      return assign;
    }
    double[] centres = seedPlusPlus(x, n, d, k, new SplittableRandom(seed));
    Arrays.fill(assign, -1);
    double[] sums = new double[k * d];
    int[] counts = new int[k];
    for (int iter = 0; iter < maxIterations; iter++) {
      boolean changed = false;
      for (int i = 0; i < n; i++) {
        int best = nearest(x, i, centres, k, d);
        if (best != assign[i]) {
          assign[i] = best;
          changed = true;
        }
      }
      if (!changed) {
        break;
      }
      Arrays.fill(sums, 0);
      Arrays.fill(counts, 0);
      for (int i = 0; i < n; i++) {
        int c = assign[i];
        counts[c]++;
        for (int j = 0, xi = i * d, ci = c * d; j < d; j++) {
          sums[ci + j] += x[xi + j];
        }
      }
      for (int c = 0; c < k; c++) {
        // An empty cluster keeps its centre: it simply yields no group.
        if (counts[c] > 0) {
          for (int j = 0; j < d; j++) {
            centres[c * d + j] = sums[c * d + j] / counts[c];
          }
        }
      }
    }
    return assign;
  }

  /** k-means++: each further centre drawn with probability proportional to squared distance. */
  private static double[] seedPlusPlus(double[] x, int n, int d, int k, SplittableRandom rnd) {
    double[] centres = new double[k * d];
    double[] dist = new double[n];
    System.arraycopy(x, rnd.nextInt(n) * d, centres, 0, d);
    for (int i = 0; i < n; i++) {
      dist[i] = squaredDistance(x, i * d, centres, 0, d);
    }
    for (int c = 1; c < k; c++) {
      double total = 0;
      for (double v : dist) {
        total += v;
      }
      int pick;
      if (total == 0) {
        // Every point coincides with a centre already: the rest would be duplicates (empty).
        pick = rnd.nextInt(n);
      } else {
        double r = rnd.nextDouble() * total;
        pick = n - 1;
        for (int i = 0; i < n; i++) {
          r -= dist[i];
          if (r < 0) {
            pick = i;
            break;
          }
        }
      }
      System.arraycopy(x, pick * d, centres, c * d, d);
      for (int i = 0; i < n; i++) {
        dist[i] = Math.min(dist[i], squaredDistance(x, i * d, centres, c * d, d));
      }
    }
    return centres;
  }

  /** Nearest centre; ties go to the lower index. */
  private static int nearest(double[] x, int i, double[] centres, int k, int d) {
    int best = 0;
    double bestDist = Double.POSITIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      double dist = boundedSquaredDistance(x, i * d, centres, c * d, d, bestDist);
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    return best;
  }

  /** The squared distance, or any value >= bound once the partial sum reaches it (cheap exit). */
  private static double boundedSquaredDistance(double[] a, int ai, double[] b, int bi, int d, double bound) {
    double s = 0;
    for (int j = 0; j < d && s < bound; j++) {
      double t = a[ai + j] - b[bi + j];
      s += t * t;
    }
    return s;
  }

  private static double squaredDistance(double[] a, int ai, double[] b, int bi, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      double t = a[ai + j] - b[bi + j];
      s += t * t;
    }
    return s;
  }
}
