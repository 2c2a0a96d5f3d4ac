package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RecallCurveTest {
  @Test
  void handMadeRankingOfFour() {
    // Positives at ranks 1 and 3 of 4: recall after k = 0..4 items is 0, 1/2, 1/2, 1, 1.
    RecallCurve c = new RecallCurve(new long[] {3, 1}, 4);
    double[] expected = {0, 0.5, 0.5, 1, 1};
    for (int k = 0; k <= 4; k++) {
      assertEquals(expected[k], c.recallAtCount(k), 0, "k=" + k);
    }
    // Trapezoids of width 1/4: (0+.5)/2 + (.5+.5)/2 + (.5+1)/2 + (1+1)/2 = 2.5, over 4.
    assertEquals(0.625, c.auc(), 1e-15);
    assertEquals(0.5, c.recallAt(0.5), 0); // round(2) items
    assertEquals(0.5, c.recallAt(0.2), 0); // round(0.8) = 1 item
    assertEquals(0.0, c.recallAt(0.1), 0); // round(0.4) = 0 items
  }

  @Test
  void aucEqualsBruteForceTrapezoidsAndKnownExtremes() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int trial = 0; trial < 20; trial++) {
      int n = 1 + rnd.nextInt(300);
      boolean[] positive = new boolean[n];
      int m = 0;
      for (int i = 0; i < n; i++) {
        positive[i] = rnd.nextDouble() < 0.2;
        m += positive[i] ? 1 : 0;
      }
      if (m == 0) {
        positive[rnd.nextInt(n)] = true;
        m = 1;
      }
      long[] ranks = new long[m];
      int j = 0;
      for (int i = 0; i < n; i++) {
        if (positive[i]) ranks[j++] = i + 1;
      }
      RecallCurve c = new RecallCurve(ranks, n);
      double area = 0;
      int found = 0;
      double prev = 0;
      for (int k = 1; k <= n; k++) {
        found += positive[k - 1] ? 1 : 0;
        double r = (double) found / m;
        assertEquals(r, c.recallAtCount(k), 1e-15);
        area += (prev + r) / 2 / n;
        prev = r;
      }
      assertEquals(area, c.auc(), 1e-12);
    }
    // Perfect ranking: 1 - m/(2n); the worst: m/(2n).
    assertEquals(1 - 3 / 20.0, new RecallCurve(new long[] {1, 2, 3}, 10).auc(), 1e-15);
    assertEquals(3 / 20.0, new RecallCurve(new long[] {8, 9, 10}, 10).auc(), 1e-15);
  }

  @Test
  void gridAndBadInput() {
    assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, RecallCurve.grid(5), 0);
    assertThrows(IllegalArgumentException.class, () -> new RecallCurve(new long[] {}, 3));
    assertThrows(IllegalArgumentException.class, () -> new RecallCurve(new long[] {4}, 3));
    assertThrows(IllegalArgumentException.class, () -> new RecallCurve(new long[] {2, 2}, 3));
  }
}
