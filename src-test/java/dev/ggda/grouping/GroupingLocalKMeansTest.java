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
      assertEquals(groups, java.util.Arrays.stream(k).sum(), "sizes " + java.util.Arrays.toString(sizes));
      for (int j = 0; j < sizes.length; j++) {
        long lo = sizes[j] == 0 ? 0 : 1;
        assertTrue(k[j] >= lo && k[j] <= sizes[j], "part " + j + " of " + java.util.Arrays.toString(sizes) + ": " + k[j]);
      }
    }
  }
}
