package dev.ggda.attribution;

import static dev.ggda.attribution.AttributionFixture.dot;
import static dev.ggda.attribution.AttributionFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.CholeskySolver;
import dev.ggda.math.Network;
import org.junit.jupiter.api.Test;

/**
 * The one-row-per-group modes end to end, against float64 closed forms: TRAK's group kernel and
 * IF's group Hessian, scores and self-influence.
 */
class GroupKernelTest {
  private static final double L2 = 0.05;
  private static final Architecture LR = Architecture.logistic(4, 3);

  private static void assertRelClose(double expected, double actual, double rel, String what) {
    double scale = Math.max(Math.abs(expected), 1e-3);
    assertEquals(expected, actual, rel * scale, what);
  }

  /**
   * K = sum_G |G| / (sum_{i in G} Q_i)^2 psi_G psi_G^T with psi_G = sum_{i in G} Q_i phi_i, plus
   * (sum_i |phi_i|^2 - tr K) / p I; score psi_G^T (K + lambda I)^-1 phi_t; self-influence with
   * chi_G estimated as (|G| / sum Q) psi_G.
   */
  @Test
  void trakGroupKernelMatchesItsClosedForm() {
    AttributionFixture f = new AttributionFixture(40, 3, 4, 3, 8, 31).train(LR, 3, 1, 1, L2, 5);
    double lambda = 0.1;
    AttributionFixture.PipelineOutput out =
        f.pipeline(
            AttributionFixture.config(
                AttributionMethod.TRAK,
                ProjectionKind.NONE,
                0,
                KernelMode.GROUP,
                HessianMode.CG,
                lambda),
            3,
            null);
    Network net = AttributionFixture.asDouble(LR, f.model.finalCheckpoint(0).params());
    int p = (int) LR.paramCount();
    double[][] psi = new double[f.groups][p];
    double[] qSum = new double[f.groups];
    int[] size = new int[f.groups];
    double exampleTrace = 0;
    for (int i = 0; i < f.n; i++) {
      int g = (int) f.groupOf[i];
      double q = AttributionFixture.q(net, f.x, f.y, i, 4);
      double[] phi = AttributionFixture.marginGrad(net, f.x, f.y, i, 4);
      qSum[g] += q;
      size[g]++;
      for (int a = 0; a < p; a++) {
        psi[g][a] += q * phi[a];
        exampleTrace += phi[a] * phi[a];
      }
    }
    double[] k = new double[p * p];
    for (int g = 0; g < f.groups; g++) {
      double w = size[g] / (qSum[g] * qSum[g]);
      for (int a = 0; a < p; a++) {
        for (int b = 0; b < p; b++) {
          k[a * p + b] += w * psi[g][a] * psi[g][b];
        }
      }
    }
    // The within-group spread the group sums drop, filled back as its trace spread over p
    // directions.
    double groupTrace = 0;
    for (int a = 0; a < p; a++) {
      groupTrace += k[a * p + a];
    }
    assertEquals(true, exampleTrace > groupTrace, "groups of 3 lose spread");
    for (int a = 0; a < p; a++) {
      k[a * p + a] += (exampleTrace - groupTrace) / p;
    }
    CholeskySolver solver = CholeskySolver.factor(k, p, lambda);
    for (int t = 0; t < 3; t++) {
      double[] u = solver.solve(AttributionFixture.marginGrad(net, f.tx, f.ty, t, 4), 1);
      for (int g = 0; g < f.groups; g++) {
        assertRelClose(
            dot(u, psi[g]), out.scores().get(key(1_000_000L + t, g)), 2e-4, "score " + t + "/" + g);
      }
    }
    for (int g = 0; g < f.groups; g++) {
      double expected = size[g] / qSum[g] * dot(solver.solve(psi[g], 1), psi[g]);
      assertRelClose(expected, out.selfInfluence().get((long) g), 2e-4, "self-influence " + g);
    }
  }

  /**
   * H = (1/n) sum_G g_G g_G^T / |G| + l2 I; score (1/n) g_G^T (H + delta I)^-1 g_t; self-influence
   * (1/n) g_G^T (H + delta I)^-1 g_G. The model fits in parameter space, so no projection is used
   * whatever is configured.
   */
  @Test
  void influenceGroupHessianMatchesItsClosedForm() {
    AttributionFixture f = new AttributionFixture(60, 4, 4, 3, 12, 32).train(LR, 4, 1, 1, L2, 6);
    double delta = 0.01;
    AttributionFixture.PipelineOutput out =
        f.pipeline(
            AttributionFixture.config(
                AttributionMethod.IF,
                ProjectionKind.RADEMACHER,
                6,
                KernelMode.SAMPLED,
                HessianMode.GROUP,
                delta),
            2,
            null);
    Network net = AttributionFixture.asDouble(LR, f.model.finalCheckpoint(0).params());
    int p = (int) LR.paramCount();
    double[][] grad = new double[f.groups][];
    int[] size = new int[f.groups];
    for (int i = 0; i < f.n; i++) {
      size[(int) f.groupOf[i]]++;
    }
    double[] h = new double[p * p];
    for (int g = 0; g < f.groups; g++) {
      grad[g] = f.groupLossGrad(net, g);
      for (int a = 0; a < p; a++) {
        for (int b = 0; b < p; b++) {
          h[a * p + b] += grad[g][a] * grad[g][b] / size[g] / f.n;
        }
      }
    }
    for (int a = 0; a < p; a++) {
      h[a * p + a] += L2;
    }
    CholeskySolver solver = CholeskySolver.factor(h, p, delta);
    for (int t = 0; t < 4; t++) {
      double[] u = solver.solve(AttributionFixture.lossGrad(net, f.tx, f.ty, t, 4), 1);
      for (int g = 0; g < f.groups; g++) {
        assertRelClose(
            dot(u, grad[g]) / f.n,
            out.scores().get(key(1_000_000L + t, g)),
            1e-4,
            "score " + t + "/" + g);
      }
    }
    for (int g = 0; g < f.groups; g++) {
      assertRelClose(
          dot(solver.solve(grad[g], 1), grad[g]) / f.n,
          out.selfInfluence().get((long) g),
          1e-4,
          "self-influence " + g);
    }
  }
}
