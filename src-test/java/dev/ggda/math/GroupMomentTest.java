package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ProjectionKind;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The moments summed from one row per group: TRAK's group kernel (Q-normalised loss rows) and IF's
 * group Hessian (batched empirical Fisher), against per-example features and a float64 softmax.
 */
class GroupMomentTest {
  private static final Architecture ARCH = FeaturizerTest.ARCH;
  private static final int[] SIZES = {3, 1, 4, 2, 1};
  private static final int N = 11;

  private static Featurizer.Spec spec(
      ProjectionKind kind, int dim, boolean marginSums, Featurizer.Moment moment) {
    return new Featurizer.Spec(kind, dim, 5, marginSums, moment, 1.0, 0, 4);
  }

  private static Featurizer.Rows singles(Featurizer.Rows grouped) {
    int n = grouped.rows();
    return new Featurizer.Rows(
        grouped.x(),
        grouped.y(),
        grouped.exampleIds(),
        grouped.dim(),
        LongStream.range(0, n).toArray(),
        IntStream.rangeClosed(0, n).toArray());
  }

  /** Q_i = 1 - p_y for every row, from a float64 softmax of the slot's logits. */
  private static double[] q(Featurizer.Rows rows, float[] params) {
    Network net = Network.fromDoubles(ARCH, toDoubles(params));
    double[][] x = new double[rows.rows()][rows.dim()];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < rows.dim(); j++) {
        x[i][j] = rows.x()[i * rows.dim() + j];
      }
    }
    double[][] logits = net.forward(Nd4j.createFromArray(x)).logits().toDoubleMatrix();
    double[] q = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double max = java.util.Arrays.stream(logits[i]).max().orElseThrow();
      double sum = 0;
      double others = 0;
      for (int c = 0; c < logits[i].length; c++) {
        double e = Math.exp(logits[i][c] - max);
        sum += e;
        others += c == rows.y()[i] ? 0 : e;
      }
      q[i] = others / sum;
    }
    return q;
  }

  private static double[] toDoubles(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }

  private static void assertClose(double[] expected, double[] actual, double tol, String what) {
    double scale = 0;
    double err = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      err = Math.max(err, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(err <= tol * scale, what + ": max error " + err + " against scale " + scale);
  }

  @Test
  void groupKernelIsTheExactKernelWhenEveryGroupHasOneMember() {
    Featurizer.Rows rows = FeaturizerTest.rows(ones(N), 3);
    var slot = FeaturizerTest.slot();
    Featurizer.Output exact =
        Featurizer.featurize(
            ARCH, slot, spec(ProjectionKind.RADEMACHER, 8, true, Featurizer.Moment.EXAMPLES), rows);
    Featurizer.Output group =
        Featurizer.featurize(
            ARCH,
            slot,
            spec(ProjectionKind.RADEMACHER, 8, false, Featurizer.Moment.GROUP_ROWS),
            rows);
    assertNull(group.margin(), "the group kernel forms no second row per group");
    assertClose(exact.kernel()[0], group.kernel()[0], 1e-4, "kernel");
    assertEquals(N, group.kernelRows()[0]);
    assertClose(q(rows, slot.get(0).params()), toDoubles(group.qSums()[0]), 1e-5, "Q");
  }

  @Test
  void groupKernelIsTheQNormalisedSumOfTheGroupsLossRows() {
    Featurizer.Rows grouped = FeaturizerTest.rows(SIZES, 4);
    var slot = FeaturizerTest.slot();
    Featurizer.Output perExample =
        Featurizer.featurize(
            ARCH,
            slot,
            spec(ProjectionKind.RADEMACHER, 8, true, Featurizer.Moment.NONE),
            singles(grouped));
    Featurizer.Output group =
        Featurizer.featurize(
            ARCH,
            slot,
            spec(ProjectionKind.RADEMACHER, 8, false, Featurizer.Moment.GROUP_ROWS),
            grouped);
    double[] q = q(grouped, slot.get(0).params());
    int k = 8;
    double[] expected = new double[k * k];
    double[] qSums = new double[SIZES.length];
    int row = 0;
    for (int g = 0; g < SIZES.length; g++) {
      // psi_G = sum_i Q_i phi_i from the per-example margin features phi_i.
      double[] psi = new double[k];
      for (int i = row; i < row + SIZES[g]; i++) {
        qSums[g] += q[i];
        for (int c = 0; c < k; c++) {
          psi[c] += q[i] * perExample.margin()[0][i * k + c];
        }
      }
      double w = SIZES[g] / (qSums[g] * qSums[g]);
      for (int a = 0; a < k; a++) {
        for (int b = 0; b < k; b++) {
          expected[a * k + b] += w * psi[a] * psi[b];
        }
      }
      row += SIZES[g];
    }
    assertClose(qSums, toDoubles(group.qSums()[0]), 1e-5, "Q sums");
    assertClose(expected, group.kernel()[0], 1e-4, "group kernel");
    assertEquals(SIZES.length, group.kernelRows()[0]);
  }

  @Test
  void groupFisherIsTheSizeWeightedOuterProductOfTheGroupGradients() {
    Featurizer.Rows grouped = FeaturizerTest.rows(SIZES, 5);
    var slot = FeaturizerTest.slot();
    int p = Math.toIntExact(ARCH.paramCount());
    Featurizer.Output perExample =
        Featurizer.featurize(
            ARCH,
            slot,
            spec(ProjectionKind.NONE, p, false, Featurizer.Moment.GROUP_FISHER),
            singles(grouped));
    Featurizer.Output group =
        Featurizer.featurize(
            ARCH,
            slot,
            spec(ProjectionKind.NONE, p, false, Featurizer.Moment.GROUP_FISHER),
            grouped);
    double[] fisher1 = new double[p * p];
    double[] fisherG = new double[p * p];
    float[] g = perExample.loss()[0];
    int row = 0;
    for (int gi = 0; gi < SIZES.length; gi++) {
      double[] sum = new double[p];
      for (int i = row; i < row + SIZES[gi]; i++) {
        for (int a = 0; a < p; a++) {
          sum[a] += g[i * p + a];
          for (int b = 0; b < p; b++) {
            fisher1[a * p + b] += (double) g[i * p + a] * g[i * p + b];
          }
        }
      }
      for (int a = 0; a < p; a++) {
        for (int b = 0; b < p; b++) {
          fisherG[a * p + b] += sum[a] * sum[b] / SIZES[gi];
        }
      }
      row += SIZES[gi];
    }
    assertClose(fisher1, perExample.kernel()[0], 1e-4, "one member per group: sum_i g_i g_i^T");
    assertClose(fisherG, group.kernel()[0], 1e-4, "groups: sum_G g_G g_G^T / |G|");
  }

  /**
   * The group Hessian at one member per group is the empirical Fisher, not the Gauss-Newton matrix;
   * their stated relation is that averaging it over labels drawn from the model gives the
   * Gauss-Newton matrix exactly: sum_c p_c g(x, c) g(x, c)^T = J^T (diag p - p p^T) J.
   */
  @Test
  void groupFisherAveragedOverModelLabelsIsTheGaussNewtonMatrix() {
    Featurizer.Rows base = FeaturizerTest.rows(ones(4), 6);
    var slot = FeaturizerTest.slot();
    int p = Math.toIntExact(ARCH.paramCount());
    int classes = ARCH.classes();
    Network net = Network.fromDoubles(ARCH, toDoubles(slot.get(0).params()));
    double[] expected = new double[p * p];
    double[] averaged = new double[p * p];
    for (int i = 0; i < base.rows(); i++) {
      float[] x = java.util.Arrays.copyOfRange(base.x(), i * base.dim(), (i + 1) * base.dim());
      INDArray xi = Nd4j.createFromArray(new double[][] {toDoubles(x)});
      GaussNewton.accumulateHessian(net, xi, new int[] {0}, expected);
      for (int c = 0; c < classes; c++) {
        Featurizer.Rows labelled =
            new Featurizer.Rows(
                x, new int[] {c}, new long[] {i}, base.dim(), new long[] {0}, new int[] {0, 1});
        double pc = 1 - q(labelled, slot.get(0).params())[0];
        double[] f =
            Featurizer.featurize(
                    ARCH,
                    slot,
                    spec(ProjectionKind.NONE, p, false, Featurizer.Moment.GROUP_FISHER),
                    labelled)
                .kernel()[0];
        for (int a = 0; a < f.length; a++) {
          averaged[a] += pc * f[a];
        }
      }
    }
    assertClose(expected, averaged, 1e-4, "sum_c p_c Fisher(x, c) against Gauss-Newton");
  }

  @Test
  void groupMomentSkipsAGroupWhoseQSumIsZero() {
    float[] loss = {1, 2, 3, 4};
    double[] m =
        Featurizer.groupMoment(
            Featurizer.Moment.GROUP_ROWS, loss, 2, 2, new int[] {1, 2}, new float[] {0f, 2f});
    // Only the second group: |G| / Q^2 = 2 / 4 times [3 4]^T [3 4].
    assertArrayEquals(new double[] {4.5, 6, 6, 8}, m, 1e-6);
  }

  private static int[] ones(int n) {
    int[] v = new int[n];
    java.util.Arrays.fill(v, 1);
    return v;
  }
}
