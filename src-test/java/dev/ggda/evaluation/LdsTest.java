package dev.ggda.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LdsTest {
  /** The golden case of the issue (and of dattri's LDS test). */
  @Test
  void goldenCase() {
    double[][] scores = {{.1, .2, .3, .4}, {.2, .1, .3, .4}};
    int[][] subsets = {{0, 1}, {0, 2}, {1, 2}};
    double[][] truth = {{.3, .3}, {.4, .4}, {.5, .3}};
    double[] rho = Lds.perTarget(Lds.predict(scores, subsets), truth);
    assertArrayEquals(new double[] {1.0, 0.8660254}, rho, 1e-7);
    assertEquals((1.0 + 0.8660254) / 2, Correlation.nanMean(rho), 1e-7);
  }

  @Test
  void averageRanksMatchHandComputation() {
    assertArrayEquals(
        new double[] {2.5, 1, 2.5, 4}, Correlation.averageRanks(new double[] {3, 1, 3, 7}), 0);
    assertArrayEquals(new double[] {2, 2, 2}, Correlation.averageRanks(new double[] {5, 5, 5}), 0);
  }

  /** Spearman with ties against the textbook formula on random data with many ties. */
  @Test
  void spearmanEqualsPearsonOfRanksComputedNaively() {
    SplittableRandom r = new SplittableRandom(7);
    double[] a = new double[40];
    double[] b = new double[40];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextInt(6);
      b[i] = a[i] + r.nextInt(4);
    }
    // naive average ranks: 1 + #smaller + (#equal - 1) / 2
    double[] ra = new double[a.length];
    double[] rb = new double[b.length];
    for (int i = 0; i < a.length; i++) {
      int lessA = 0, eqA = 0, lessB = 0, eqB = 0;
      for (int j = 0; j < a.length; j++) {
        lessA += a[j] < a[i] ? 1 : 0;
        eqA += a[j] == a[i] ? 1 : 0;
        lessB += b[j] < b[i] ? 1 : 0;
        eqB += b[j] == b[i] ? 1 : 0;
      }
      ra[i] = 1 + lessA + (eqA - 1) / 2.0;
      rb[i] = 1 + lessB + (eqB - 1) / 2.0;
    }
    double mra = 0, mrb = 0;
    for (int i = 0; i < a.length; i++) {
      mra += ra[i] / a.length;
      mrb += rb[i] / a.length;
    }
    double num = 0, da = 0, db = 0;
    for (int i = 0; i < a.length; i++) {
      num += (ra[i] - mra) * (rb[i] - mrb);
      da += (ra[i] - mra) * (ra[i] - mra);
      db += (rb[i] - mrb) * (rb[i] - mrb);
    }
    double expected = num / Math.sqrt(da * db);
    assertEquals(expected, Correlation.spearman(a, b), 1e-12);
    assertTrue(expected > 0.5);
  }

  @Test
  void constantSideGivesNaNAndIsSkippedInTheMean() {
    assertTrue(Double.isNaN(Correlation.spearman(new double[] {1, 2, 3}, new double[] {4, 4, 4})));
    assertEquals(0.5, Correlation.nanMean(new double[] {Double.NaN, 0.25, 0.75}), 0);
  }
}
