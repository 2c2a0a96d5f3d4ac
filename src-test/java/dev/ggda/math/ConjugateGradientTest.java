package dev.ggda.math;

import static dev.ggda.math.GaussNewtonFixtures.denseGaussNewton;
import static dev.ggda.math.GaussNewtonFixtures.randomBatch;
import static dev.ggda.math.GaussNewtonFixtures.randomMatrix;
import static dev.ggda.math.GaussNewtonFixtures.randomNetwork;
import static dev.ggda.math.GaussNewtonFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import dev.ggda.math.ConjugateGradient.LinearOperator;
import dev.ggda.math.ConjugateGradient.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConjugateGradientTest {
  private static final double LAMBDA = 1e-3;
  private static final double DELTA = 1e-2;

  /** A small tanh MLP over two local batches, with its damped operator and dense matrix. */
  private record Problem(Network net, List<GaussNewton.Batch> batches, int p, double[] dense) {
    static Problem create() {
      Architecture arch = new Architecture(3, new int[] {5}, 3, ActivationKind.TANH);
      Network net = randomNetwork(arch, 71, 0.8);
      GaussNewton.Batch b1 = randomBatch(10, 3, 3, 72);
      GaussNewton.Batch b2 = randomBatch(7, 3, 3, 73);
      int p = (int) arch.paramCount();
      double[] h = denseGaussNewton(net, b1, b2);
      int n = b1.size() + b2.size();
      // A = H / n + (lambda + delta) I
      for (int i = 0; i < p * p; i++) {
        h[i] /= n;
      }
      for (int i = 0; i < p; i++) {
        h[i * p + i] += LAMBDA + DELTA;
      }
      return new Problem(net, List.of(b1, b2), p, h);
    }

    LinearOperator operator() {
      return ConjugateGradient.gaussNewtonOperator(net, batches, LAMBDA, DELTA);
    }
  }

  @Test
  void gaussNewtonOperatorEqualsTheDenseDampedMatrix() {
    Problem pr = Problem.create();
    double[][] v = randomMatrix(3, pr.p, 80);
    double[][] got = pr.operator().apply(v);
    double err = relativeError(got, denseApply(pr.dense, pr.p).apply(v));
    assertTrue(err < 1e-10, "relative error " + err);
  }

  @Test
  void solutionMatchesCholeskyOnTheDampedGaussNewtonSystem() {
    Problem pr = Problem.create();
    double[][] b = randomMatrix(4, pr.p, 81);
    ConjugateGradient.Solution cg = ConjugateGradient.solve(pr.operator(), b, 1e-12, 10 * pr.p);

    CholeskySolver chol = CholeskySolver.factor(pr.dense, pr.p, 0.0);
    assertEquals(0.0, chol.damping(), "the damped system is positive definite as it stands");
    // Column-major p x r: column j is b[j], contiguous.
    double[] x = chol.solve(GaussNewtonFixtures.flatten(b), b.length);
    double[][] expected = new double[b.length][];
    for (int j = 0; j < b.length; j++) {
      expected[j] = Arrays.copyOfRange(x, j * pr.p, (j + 1) * pr.p);
    }

    System.out.printf(
        "CG on damped Gauss-Newton, p=%d, r=%d: %d iterations (per column %s), max residual %.2e%n",
        pr.p,
        b.length,
        cg.iterations(),
        Arrays.toString(cg.columnIterations()),
        cg.maxRelativeResidual());
    assertTrue(cg.converged());
    assertTrue(cg.iterations() <= 10 * pr.p);
    double err = relativeError(cg.solutions(), expected);
    assertTrue(err < 1e-8, "relative error against Cholesky " + err);
  }

  @Test
  void illConditionedSystemConvergesWithinItsBoundOrSaysItDidNot() {
    int dim = 40;
    double[] a = spdWithSpectrum(dim, 1e-8, 90);
    LinearOperator op = denseApply(a, dim);
    double[][] b = randomMatrix(2, dim, 91);

    ConjugateGradient.Solution cut = ConjugateGradient.solve(op, b, 1e-10, 5);
    assertFalse(cut.converged());
    assertEquals(5, cut.iterations());
    double[] truth = ConjugateGradient.relativeResiduals(op, b, cut.solutions());
    for (int j = 0; j < b.length; j++) {
      assertEquals(Status.MAX_ITERATIONS, cut.statuses()[j]);
      assertEquals(5, cut.columnIterations()[j]);
      assertTrue(cut.relativeResiduals()[j] > 1e-10);
      // The reported residual is the actual one, not an optimistic estimate.
      assertEquals(truth[j], cut.relativeResiduals()[j], 1e-6 * truth[j]);
    }

    int bound = 20 * dim;
    ConjugateGradient.Solution full = ConjugateGradient.solve(op, b, 1e-6, bound);
    System.out.printf(
        "CG on condition number 1e8, dim=%d: %d iterations (bound %d), residuals %s%n",
        dim, full.iterations(), bound, Arrays.toString(full.relativeResiduals()));
    assertTrue(full.converged());
    assertTrue(full.iterations() <= bound);
    for (double r : ConjugateGradient.relativeResiduals(op, b, full.solutions())) {
      assertTrue(r < 1e-5, "true relative residual " + r);
    }
  }

  @Test
  void columnsShareOperatorCallsAndConvergedOnesDropOut() {
    int dim = 12;
    double[] a = spdWithSpectrum(dim, 1e-2, 100);
    // An eigenvector of A: CG solves it exactly in one step.
    double[] eigen = spectralVector(dim, 100);
    double[][] b = {eigen, randomMatrix(1, dim, 101)[0]};
    List<Integer> callSizes = new ArrayList<>();
    LinearOperator dense = denseApply(a, dim);
    LinearOperator counting =
        cols -> {
          callSizes.add(cols.length);
          return dense.apply(cols);
        };
    ConjugateGradient.Solution res = ConjugateGradient.solve(counting, b, 1e-10, 100);
    assertTrue(res.converged());
    assertEquals(callSizes.size(), res.iterations(), "one operator call per iteration");
    assertEquals(1, res.columnIterations()[0]);
    assertEquals(res.iterations(), res.columnIterations()[1]);
    assertTrue(res.iterations() > 1);
    assertEquals(2, callSizes.get(0));
    for (int k = 1; k < callSizes.size(); k++) {
      assertEquals(1, callSizes.get(k), "the converged column is no longer applied");
    }
  }

  @Test
  void zeroRightHandSidesNeedNoOperatorCall() {
    LinearOperator fail =
        cols -> {
          throw new AssertionError("operator called");
        };
    ConjugateGradient.Solution res = ConjugateGradient.solve(fail, new double[2][5], 1e-8, 10);
    assertTrue(res.converged());
    assertEquals(0, res.iterations());
    for (double[] x : res.solutions()) {
      assertArrayEquals(new double[5], x, 0.0);
    }
  }

  @Test
  void indefiniteOperatorIsReportedAsBreakdown() {
    LinearOperator negative =
        cols -> {
          double[][] out = new double[cols.length][];
          for (int j = 0; j < cols.length; j++) {
            out[j] = cols[j].clone();
            for (int i = 0; i < out[j].length; i++) {
              out[j][i] = -out[j][i];
            }
          }
          return out;
        };
    ConjugateGradient.Solution res =
        ConjugateGradient.solve(negative, randomMatrix(1, 4, 110), 1e-8, 10);
    assertFalse(res.converged());
    assertEquals(Status.BREAKDOWN, res.statuses()[0]);
    assertEquals(1.0, res.relativeResiduals()[0]);
  }

  @Test
  void repeatedSolvesAreBitIdentical() {
    Problem pr = Problem.create();
    double[][] b = randomMatrix(3, pr.p, 120);
    ConjugateGradient.Solution first = ConjugateGradient.solve(pr.operator(), b, 1e-10, 200);
    ConjugateGradient.Solution second = ConjugateGradient.solve(pr.operator(), b, 1e-10, 200);
    assertEquals(first.iterations(), second.iterations());
    for (int j = 0; j < b.length; j++) {
      assertArrayEquals(first.solutions()[j], second.solutions()[j], 0.0);
    }
    assertArrayEquals(first.relativeResiduals(), second.relativeResiduals(), 0.0);
  }

  /** x -> A x for a dense row-major symmetric A, plain loops. */
  static LinearOperator denseApply(double[] a, int dim) {
    return cols -> {
      double[][] out = new double[cols.length][dim];
      for (int j = 0; j < cols.length; j++) {
        for (int i = 0; i < dim; i++) {
          double s = 0;
          for (int k = 0; k < dim; k++) {
            s += a[i * dim + k] * cols[j][k];
          }
          out[j][i] = s;
        }
      }
      return out;
    };
  }

  /** Q diag(1 .. minEigen, geometric) Q^T with Q a seeded random orthonormal basis. */
  static double[] spdWithSpectrum(int dim, double minEigen, long seed) {
    double[][] q = orthonormalBasis(dim, seed);
    double[] a = new double[dim * dim];
    for (int e = 0; e < dim; e++) {
      double lambda = Math.pow(minEigen, e / (double) (dim - 1));
      for (int i = 0; i < dim; i++) {
        for (int k = 0; k < dim; k++) {
          a[i * dim + k] += lambda * q[e][i] * q[e][k];
        }
      }
    }
    return a;
  }

  /** The eigenvector of {@link #spdWithSpectrum} with the largest eigenvalue (1). */
  static double[] spectralVector(int dim, long seed) {
    return orthonormalBasis(dim, seed)[0];
  }

  /** Rows of a seeded random orthonormal basis (modified Gram-Schmidt). */
  private static double[][] orthonormalBasis(int dim, long seed) {
    double[][] q = randomMatrix(dim, dim, seed);
    for (int e = 0; e < dim; e++) {
      for (int f = 0; f < e; f++) {
        double d = 0;
        for (int i = 0; i < dim; i++) {
          d += q[e][i] * q[f][i];
        }
        for (int i = 0; i < dim; i++) {
          q[e][i] -= d * q[f][i];
        }
      }
      double norm = 0;
      for (int i = 0; i < dim; i++) {
        norm += q[e][i] * q[e][i];
      }
      norm = Math.sqrt(norm);
      for (int i = 0; i < dim; i++) {
        q[e][i] /= norm;
      }
    }
    return q;
  }
}
