package dev.ggda.grouping;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GroupingLocalKMeansTest {
  /** Three tight clusters around 0, 10 and 20 on every axis, points interleaved. */
  private static double[] threeClusters(int n, int d) {
    SplittableRandom rnd = new SplittableRandom(3);
    double[] x = new double[n * d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        x[i * d + j] = 10 * (i % 3) + 0.1 * rnd.nextDouble();
      }
    }
    return x;
  }

  @Test
  void separatesTightClusters() {
    int n = 90;
    int d = 2;
    int[] a = LocalKMeans.cluster(threeClusters(n, d), n, d, 3, 7, LocalKMeans.MAX_ITERATIONS);
    for (int i = 3; i < n; i++) {
      assertEquals(a[i % 3], a[i], "point " + i);
    }
    assertEquals(3, new HashSet<>(Set.of(a[0], a[1], a[2])).size());
  }

  @Test
  void sameSeedSameClustersAndKAtLeastNGivesSingletons() {
    double[] x = new double[200];
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextDouble();
    }
    int[] first = LocalKMeans.cluster(x, 100, 2, 10, 5, 20);
    assertArrayEquals(first, LocalKMeans.cluster(x, 100, 2, 10, 5, 20));
    assertNotEquals(1, java.util.Arrays.stream(first).distinct().count());
    int[] singletons = LocalKMeans.cluster(x, 100, 2, 100, 5, 20);
    assertEquals(100, java.util.Arrays.stream(singletons).distinct().count());
  }

  /**
   * Lloyd at convergence: every point is nearest (brute-force distance) to its own cluster mean.
   */
  @Test
  void convergedAssignmentIsNearestCentroidByBruteForce() {
    int n = 600;
    int d = 7;
    SplittableRandom rnd = new SplittableRandom(11);
    double[] x = new double[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextGaussian() * (1 + (i / d) % 4);
    }
    int k = 23;
    int[] a = LocalKMeans.cluster(x, n, d, k, 3, 500);
    double[][] mean = new double[k][d];
    int[] count = new int[k];
    for (int i = 0; i < n; i++) {
      count[a[i]]++;
      for (int j = 0; j < d; j++) {
        mean[a[i]][j] += x[i * d + j];
      }
    }
    for (int c = 0; c < k; c++) {
      for (int j = 0; j < d && count[c] > 0; j++) {
        mean[c][j] /= count[c];
      }
    }
    for (int i = 0; i < n; i++) {
      double own = 0;
      for (int j = 0; j < d; j++) {
        own += Math.pow(x[i * d + j] - mean[a[i]][j], 2);
      }
      for (int c = 0; c < k; c++) {
        if (count[c] == 0) {
          continue;
        }
        double other = 0;
        for (int j = 0; j < d; j++) {
          other += Math.pow(x[i * d + j] - mean[c][j], 2);
        }
        assertTrue(
            own <= other + 1e-9,
            "point " + i + " is closer to centre " + c + " than to its own " + a[i]);
      }
    }
  }

  @Test
  void hierarchicalUsesExactlyKIdsAndIsDeterministic() {
    int n = 5000;
    int d = 4;
    SplittableRandom rnd = new SplittableRandom(5);
    double[] x = new double[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextGaussian();
    }
    int k = 700;
    int[] a = LocalKMeans.hierarchical(x, n, d, k, 9, 20);
    assertArrayEquals(a, LocalKMeans.hierarchical(x, n, d, k, 9, 20));
    assertTrue(java.util.Arrays.stream(a).allMatch(c -> c >= 0 && c < k));
    // Every one of the k shares is used: the parts get exactly their apportioned cluster counts.
    assertTrue(java.util.Arrays.stream(a).distinct().count() > 0.95 * k, "clusters used");
    // Up to FLAT_UP_TO clusters it is plain Lloyd.
    assertArrayEquals(
        LocalKMeans.cluster(x, n, d, 50, 9, 20), LocalKMeans.hierarchical(x, n, d, 50, 9, 20));
  }

  @Test
  void allocationIsProportionalExactAndBounded() {
    long[] k = Allocation.proportional(new long[] {500, 0, 300, 1, 199}, 100);
    assertEquals(100, java.util.Arrays.stream(k).sum());
    assertEquals(0, k[1]);
    assertEquals(1, k[3]);
    assertEquals(50, k[0], 1);
    assertEquals(30, k[2], 1);
    // Small parts still get a group; the total stays exact.
    assertArrayEquals(new long[] {1, 1, 48}, Allocation.proportional(new long[] {2, 2, 100}, 50));
  }

  @Test
  void allocationStaysExactAndWithinEachPartsSize() {
    SplittableRandom rnd = new SplittableRandom(2);
    for (int trial = 0; trial < 500; trial++) {
      long[] sizes = new long[1 + rnd.nextInt(12)];
      long total = 0;
      int nonEmpty = 0;
      for (int j = 0; j < sizes.length; j++) {
        sizes[j] = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 3 : 300);
        total += sizes[j];
        nonEmpty += sizes[j] > 0 ? 1 : 0;
      }
      if (nonEmpty == 0) {
        continue;
      }
      long groups = nonEmpty + rnd.nextLong(total - nonEmpty + 1);
      long[] k = Allocation.proportional(sizes, groups);
      assertEquals(
          groups, java.util.Arrays.stream(k).sum(), "sizes " + java.util.Arrays.toString(sizes));
      for (int j = 0; j < sizes.length; j++) {
        long lo = sizes[j] == 0 ? 0 : 1;
        assertTrue(
            k[j] >= lo && k[j] <= sizes[j],
            "part " + j + " of " + java.util.Arrays.toString(sizes) + ": " + k[j]);
      }
    }
  }
}
