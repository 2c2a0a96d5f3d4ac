package dev.ggda.grouping;

import dev.ggda.math.Seeds;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Plain-Java k-means (k-means++ seeding, then Lloyd iterations) for the points of one coarse
 * cluster on an executor. Single-threaded with a fixed summation order, so the same points in the
 * same order with the same seed give the same clusters on every JVM.
 */
final class LocalKMeans {
  static final int MAX_ITERATIONS = 20;

  /**
   * Above this many clusters {@link #hierarchical} splits in two levels. Flat Lloyd costs n k
   * distances per iteration, the split about 2 n sqrt(k); gradient features put most well-fit
   * examples in one coarse cluster near the origin, whose share of the groups is then large.
   */
  static final int FLAT_UP_TO = 128;

  private LocalKMeans() {}

  /**
   * Like {@link #cluster}, but clusters bigger than {@link #FLAT_UP_TO} are formed recursively: a
   * first k-means into ceil(sqrt(k)) parts, each then split into its proportional share of k (so a
   * skewed part gets more). Cluster indices are in [0, k). Deterministic like {@link #cluster}:
   * part j is clustered with {@code Seeds.mix(seed, j)} on its points in their input order.
   */
  static int[] hierarchical(double[] x, int n, int d, int k, long seed, int maxIterations) {
    if (k <= FLAT_UP_TO || k >= n) {
      return cluster(x, n, d, k, seed, maxIterations);
    }
    int parts = (int) Math.ceil(Math.sqrt(k));
    int[] part = cluster(x, n, d, parts, seed, maxIterations);
    long[] sizes = new long[parts];
    for (int p : part) {
      sizes[p]++;
    }
    long[] share = Allocation.proportional(sizes, k);
    int[] assign = new int[n];
    int offset = 0;
    for (int j = 0; j < parts; j++) {
      int m = (int) sizes[j];
      if (m == 0) {
        continue;
      }
      int[] members = new int[m];
      double[] sub = new double[m * d];
      for (int i = 0, t = 0; i < n; i++) {
        if (part[i] == j) {
          members[t] = i;
          System.arraycopy(x, i * d, sub, t * d, d);
          t++;
        }
      }
      // A part that kept nearly every point would only recurse again with a slightly smaller k.
      int[] inner =
          m > 0.9 * n
              ? cluster(sub, m, d, (int) share[j], Seeds.mix(seed, j), maxIterations)
              : hierarchical(sub, m, d, (int) share[j], Seeds.mix(seed, j), maxIterations);
      for (int t = 0; t < m; t++) {
        assign[members[t]] = offset + inner[t];
      }
      offset += (int) share[j];
    }
    return assign;
  }

  /**
   * Clusters {@code n} points of dimension {@code d} (row-major in {@code x}) into at most {@code
   * k} clusters. Cluster indices are in [0, k); some may be unused (duplicate points), which is why
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
    double[] centreNorms = new double[k];
    for (int iter = 0; iter < maxIterations; iter++) {
      boolean changed = false;
      norms(centres, k, d, centreNorms);
      for (int i = 0; i < n; i++) {
        int best = nearest(x, i, centres, centreNorms, k, d);
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

  /**
   * Nearest centre by ||c||^2 - 2 x.c (the point's own norm does not change the argmin); ties go to
   * the lower index. Four centres per pass over x give four independent accumulation chains, about
   * 2x the scalar subtract-and-square loop (1000 x 320, k = 60).
   */
  private static int nearest(
      double[] x, int i, double[] centres, double[] centreNorms, int k, int d) {
    int xi = i * d;
    int best = 0;
    double bestDist = Double.POSITIVE_INFINITY;
    int c = 0;
    for (; c + 4 <= k; c += 4) {
      int c0 = c * d;
      int c1 = c0 + d;
      int c2 = c1 + d;
      int c3 = c2 + d;
      double s0 = 0;
      double s1 = 0;
      double s2 = 0;
      double s3 = 0;
      for (int j = 0; j < d; j++) {
        double v = x[xi + j];
        s0 += v * centres[c0 + j];
        s1 += v * centres[c1 + j];
        s2 += v * centres[c2 + j];
        s3 += v * centres[c3 + j];
      }
      double d0 = centreNorms[c] - 2 * s0;
      double d1 = centreNorms[c + 1] - 2 * s1;
      double d2 = centreNorms[c + 2] - 2 * s2;
      double d3 = centreNorms[c + 3] - 2 * s3;
      if (d0 < bestDist) {
        bestDist = d0;
        best = c;
      }
      if (d1 < bestDist) {
        bestDist = d1;
        best = c + 1;
      }
      if (d2 < bestDist) {
        bestDist = d2;
        best = c + 2;
      }
      if (d3 < bestDist) {
        bestDist = d3;
        best = c + 3;
      }
    }
    for (; c < k; c++) {
      double s = 0;
      for (int j = 0, ci = c * d; j < d; j++) {
        s += x[xi + j] * centres[ci + j];
      }
      double dist = centreNorms[c] - 2 * s;
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    return best;
  }

  private static void norms(double[] centres, int k, int d, double[] out) {
    for (int c = 0; c < k; c++) {
      double s = 0;
      for (int j = 0, ci = c * d; j < d; j++) {
        s += centres[ci + j] * centres[ci + j];
      }
      out[c] = s;
    }
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
