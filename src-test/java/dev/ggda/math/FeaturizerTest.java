package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.ProjectionKind;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class FeaturizerTest {
  static final Architecture ARCH = new Architecture(5, new int[] {6}, 3, ActivationKind.RELU);

  static Featurizer.Rows rows(int[] sizes, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int n = java.util.Arrays.stream(sizes).sum();
    float[] x = new float[n * 5];
    int[] y = new int[n];
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 100 + i;
      y[i] = rnd.nextInt(3);
      for (int j = 0; j < 5; j++) {
        x[i * 5 + j] = (float) rnd.nextGaussian();
      }
    }
    long[] groupIds = new long[sizes.length];
    int[] starts = new int[sizes.length + 1];
    for (int g = 0; g < sizes.length; g++) {
      groupIds[g] = 7 + g;
      starts[g + 1] = starts[g] + sizes[g];
    }
    return new Featurizer.Rows(x, y, ids, 5, groupIds, starts);
  }

  static Featurizer.Spec spec(Featurizer.Moment kernel, int passRows) {
    return new Featurizer.Spec(ProjectionKind.RADEMACHER, 8, 5, true, kernel, 1.0, 0, passRows);
  }

  static List<Featurizer.Slot> slot() {
    return List.of(
        new Featurizer.Slot(0, 0, Network.initialise(ARCH, 3, DataType.FLOAT).paramsAsFloats()));
  }

  @Test
  void groupFeaturesAreTheSumsOfTheirMembersPerExampleFeatures() {
    int[] sizes = {3, 1, 4, 2};
    Featurizer.Rows grouped = rows(sizes, 1);
    int n = 10;
    int[] singles = new int[n];
    java.util.Arrays.fill(singles, 1);
    Featurizer.Rows single =
        new Featurizer.Rows(
            grouped.x(),
            grouped.y(),
            grouped.exampleIds(),
            5,
            java.util.stream.LongStream.range(0, n).toArray(),
            java.util.stream.IntStream.rangeClosed(0, n).toArray());
    Featurizer.Output g =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.GROUP_SUMS, 64), grouped);
    Featurizer.Output s =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.GROUP_SUMS, 64), single);
    int k = 8;
    int row = 0;
    for (int gi = 0; gi < sizes.length; gi++) {
      for (int j = 0; j < k; j++) {
        double loss = 0;
        double margin = 0;
        for (int i = row; i < row + sizes[gi]; i++) {
          loss += s.loss()[0][i * k + j];
          margin += s.margin()[0][i * k + j];
        }
        assertEquals(loss, g.loss()[0][gi * k + j], 1e-5, "loss feature, group " + gi);
        assertEquals(margin, g.margin()[0][gi * k + j], 1e-5, "margin feature, group " + gi);
      }
      row += sizes[gi];
    }
    // Batched kernel: sum_G chi chi^T / |G|; with singles it is the exact kernel sum_i phi phi^T.
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        double expected = 0;
        for (int gi = 0; gi < sizes.length; gi++) {
          expected += (double) g.margin()[0][gi * k + a] * g.margin()[0][gi * k + b] / sizes[gi];
        }
        assertEquals(expected, g.kernel()[0][a * k + b], 1e-5);
      }
    }
    Featurizer.Output exact =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.EXAMPLES, 64), grouped);
    for (int i = 0; i < k * k; i++) {
      assertEquals(s.kernel()[0][i], exact.kernel()[0][i], 1e-5, "exact kernel entry " + i);
    }
  }

  /**
   * Grouped rows, sampled kernel: sum of phi phi^T over exactly the seeded sample, by brute force.
   */
  @Test
  void sampledKernelSumsExactlyTheSampledExamples() {
    int[] sizes = {5, 7, 3, 9, 6};
    Featurizer.Rows grouped = rows(sizes, 4);
    int n = 30;
    Featurizer.Rows single =
        new Featurizer.Rows(
            grouped.x(),
            grouped.y(),
            grouped.exampleIds(),
            5,
            java.util.stream.LongStream.range(0, n).toArray(),
            java.util.stream.IntStream.rangeClosed(0, n).toArray());
    Featurizer.Output s =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.NONE, 64), single);
    long sampleSeed = 99;
    Featurizer.Spec sampled =
        new Featurizer.Spec(
            ProjectionKind.RADEMACHER,
            8,
            5,
            true,
            Featurizer.Moment.SAMPLED_EXAMPLES,
            0.5,
            sampleSeed,
            8);
    Featurizer.Output g = Featurizer.featurize(ARCH, slot(), sampled, grouped);
    int k = 8;
    double[] expected = new double[k * k];
    long in = 0;
    for (int i = 0; i < n; i++) {
      if (Seeds.unit(Seeds.mix(sampleSeed, grouped.exampleIds()[i])) < 0.5) {
        in++;
        for (int a = 0; a < k; a++) {
          for (int b = 0; b < k; b++) {
            expected[a * k + b] += (double) s.margin()[0][i * k + a] * s.margin()[0][i * k + b];
          }
        }
      }
    }
    assertEquals(in, g.kernelRows()[0]);
    org.junit.jupiter.api.Assertions.assertTrue(in > 5 && in < 25, "sample of " + in);
    for (int i = 0; i < k * k; i++) {
      assertEquals(expected[i], g.kernel()[0][i], 1e-5, "sampled kernel entry " + i);
    }
  }

  @Test
  void aGroupLargerThanAPassIsChunkedAndItsSumsAdded() {
    Featurizer.Rows r = rows(new int[] {9, 2}, 2);
    Featurizer.Output whole =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.GROUP_SUMS, 64), r);
    Featurizer.Output chunked =
        Featurizer.featurize(ARCH, slot(), spec(Featurizer.Moment.GROUP_SUMS, 4), r);
    for (int i = 0; i < whole.loss()[0].length; i++) {
      assertEquals(whole.loss()[0][i], chunked.loss()[0][i], 1e-5);
      assertEquals(whole.margin()[0][i], chunked.margin()[0][i], 1e-5);
    }
  }
}
