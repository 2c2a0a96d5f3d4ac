package dev.ggda.data;

import static dev.ggda.data.DataFixtures.assertInputError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.SyntheticSpec;
import dev.ggda.testing.SparkTestSession;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class DataSyntheticTest {
  private final SparkSession spark = SparkTestSession.get();

  private LocalData generate(SyntheticSpec s, String role, int partitions) {
    LoadedData d =
        new LoadedData(
            SyntheticData.generate(spark, s, role, s.n(), partitions), s.dim(), s.classes(), s.n());
    return LocalData.collect(d);
  }

  @Test
  void outputDoesNotDependOnPartitioning() {
    SyntheticSpec s = new SyntheticSpec(300, 5, 4, 0.2, 3.0, 11);
    LocalData one = generate(s, "train", 1);
    LocalData five = generate(s, "train", 5);
    assertEquals(300, one.size());
    assertArrayEquals(one.ids(), five.ids());
    assertArrayEquals(one.labels(), five.labels());
    assertArrayEquals(one.features(), five.features());
  }

  @Test
  void rolesAndSeedsGiveDifferentSamples() {
    SyntheticSpec s = new SyntheticSpec(50, 3, 2, 0.0, 2.0, 1);
    LocalData train = generate(s, "train", 2);
    LocalData targets = generate(s, "targets", 2);
    LocalData otherSeed = generate(new SyntheticSpec(50, 3, 2, 0.0, 2.0, 2), "train", 2);
    assertFalse(java.util.Arrays.equals(train.features(), targets.features()));
    assertFalse(java.util.Arrays.equals(train.features(), otherSeed.features()));
  }

  @Test
  void trainAndTargetsShareTheClassMeans() {
    SyntheticSpec s = new SyntheticSpec(600, 6, 3, 0.0, 8.0, 5);
    LocalData train = generate(s, "train", 2);
    LocalData targets = generate(s, "targets", 2);
    double[][] centroid = new double[3][6];
    int[] count = new int[3];
    for (int r = 0; r < train.size(); r++) {
      count[train.labels()[r]]++;
      for (int j = 0; j < 6; j++) centroid[train.labels()[r]][j] += train.features()[r * 6 + j];
    }
    for (int c = 0; c < 3; c++) for (int j = 0; j < 6; j++) centroid[c][j] /= count[c];
    int correct = 0;
    for (int r = 0; r < targets.size(); r++) {
      if (nearest(centroid, targets.row(r)) == targets.labels()[r]) correct++;
    }
    assertTrue(
        correct > 0.95 * targets.size(), "nearest train centroid classifies targets: " + correct);
  }

  @Test
  void labelNoiseFlipsTheRequestedFraction() {
    SyntheticSpec s = new SyntheticSpec(4000, 4, 5, 0.3, 40.0, 3);
    double[] means = SyntheticData.classMeans(s.seed(), s.classes(), s.dim(), s.separation());
    double[][] m = new double[5][4];
    for (int c = 0; c < 5; c++) for (int j = 0; j < 4; j++) m[c][j] = means[c * 4 + j];
    LocalData d = generate(s, "train", 3);
    int flipped = 0;
    for (int r = 0; r < d.size(); r++) if (nearest(m, d.row(r)) != d.labels()[r]) flipped++;
    double frac = flipped / (double) d.size();
    assertEquals(0.3, frac, 0.03, "flipped fraction");

    LocalData clean = generate(new SyntheticSpec(1000, 4, 5, 0.0, 40.0, 3), "train", 3);
    for (int r = 0; r < clean.size(); r++)
      assertEquals(nearest(m, clean.row(r)), clean.labels()[r]);
  }

  @Test
  void loaderAppliesLimitAndValidatesTheSpec() {
    SyntheticSpec s = new SyntheticSpec(100, 3, 4, 0.0, 1.0, 0);
    LoadedData d =
        DataLoader.load(
            spark, DataFixtures.withLimit(DataFixtures.synthetic(s), 10), null, "train");
    assertEquals(10, d.count());
    assertEquals(4, d.classes());
    assertEquals(Columns.schema(false), d.examples().schema());
    assertEquals(10, d.examples().count());
    assertInputError(
        () ->
            DataLoader.load(
                spark, DataFixtures.synthetic(new SyntheticSpec(10, 3, 1, 0, 1, 0)), null, "train"),
        "data.train.synthetic.classes",
        "got 1");
    assertInputError(
        () ->
            DataLoader.load(
                spark,
                DataFixtures.synthetic(new SyntheticSpec(10, 3, 2, 1.5, 1, 0)),
                null,
                "targets"),
        "data.targets.synthetic.label_noise");
  }

  @Test
  void splitMixMatchesTheReferenceAndGaussiansAreStandard() {
    // reference output of splitmix64.c (Vigna) for seed 0
    assertEquals(0xE220A8397B1DCDAFL, new SplitMix64(0).nextLong());
    SplitMix64 rng = new SplitMix64(123);
    double sum = 0;
    double sq = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      double g = rng.nextGaussian();
      sum += g;
      sq += g * g;
    }
    assertEquals(0.0, sum / n, 0.01);
    assertEquals(1.0, sq / n, 0.015);
  }

  private static int nearest(double[][] centres, float[] x) {
    int best = -1;
    double bestD = Double.MAX_VALUE;
    for (int c = 0; c < centres.length; c++) {
      double d = 0;
      for (int j = 0; j < x.length; j++) d += (x[j] - centres[c][j]) * (x[j] - centres[c][j]);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best;
  }
}
