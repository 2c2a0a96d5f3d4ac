package dev.ggda.math;

import static dev.ggda.math.GaussNewtonFixtures.denseGaussNewton;
import static dev.ggda.math.GaussNewtonFixtures.multiply;
import static dev.ggda.math.GaussNewtonFixtures.randomBatch;
import static dev.ggda.math.GaussNewtonFixtures.randomMatrix;
import static dev.ggda.math.GaussNewtonFixtures.randomNetwork;
import static dev.ggda.math.GaussNewtonFixtures.relativeError;
import static dev.ggda.math.GaussNewtonFixtures.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class GaussNewtonTest {

  static Stream<Architecture> mlps() {
    return Stream.of(
        new Architecture(3, new int[] {4}, 3, ActivationKind.TANH),
        new Architecture(3, new int[] {4}, 3, ActivationKind.RELU),
        new Architecture(3, new int[] {4, 3}, 3, ActivationKind.TANH),
        new Architecture(3, new int[] {4, 3}, 3, ActivationKind.RELU),
        new Architecture(3, new int[] {4}, 3, ActivationKind.SIGMOID));
  }

  static Stream<Architecture> allArchitectures() {
    return Stream.concat(Stream.of(Architecture.logistic(4, 3)), mlps());
  }

  @Test
  void logisticRegressionHessianEqualsFiniteDifferenceHessianOfSummedLoss() {
    Architecture arch = Architecture.logistic(4, 3);
    Network net = randomNetwork(arch, 11, 0.7);
    GaussNewton.Batch batch = randomBatch(6, 4, 3, 12);
    int p = (int) arch.paramCount();
    double[] h = denseGaussNewton(net, batch);

    // Column k of the Hessian = d grad / d theta_k by central differences of the batched gradient.
    double[] fd = new double[p * p];
    double eps = 1e-5;
    for (int k = 0; k < p; k++) {
      double orig = net.params().getDouble(k);
      net.params().putScalar(k, orig + eps);
      double[] up =
          net.lossGradient(batch.features(), batch.labels()).gradient().sum().toDoubleVector();
      net.params().putScalar(k, orig - eps);
      double[] down =
          net.lossGradient(batch.features(), batch.labels()).gradient().sum().toDoubleVector();
      net.params().putScalar(k, orig);
      for (int i = 0; i < p; i++) {
        fd[i * p + k] = (up[i] - down[i]) / (2 * eps);
      }
    }
    double err = relativeError(h, fd);
    assertTrue(err < 1e-6, "relative error " + err);
  }

  @ParameterizedTest
  @MethodSource("mlps")
  void mlpHessianEqualsBruteForceJacobianSum(Architecture arch) {
    Network net = randomNetwork(arch, 21, 0.8);
    GaussNewton.Batch batch = randomBatch(5, arch.inputDim(), arch.classes(), 22);
    int p = (int) arch.paramCount();
    int n = batch.size();
    int classes = arch.classes();
    double[] h = denseGaussNewton(net, batch);

    // J[i][c][k] = d logit_{i,c} / d theta_k by central differences.
    double[][][] jac = new double[n][classes][p];
    double eps = 1e-6;
    for (int k = 0; k < p; k++) {
      double orig = net.params().getDouble(k);
      net.params().putScalar(k, orig + eps);
      double[][] up = net.logits(batch.features()).toDoubleMatrix();
      net.params().putScalar(k, orig - eps);
      double[][] down = net.logits(batch.features()).toDoubleMatrix();
      net.params().putScalar(k, orig);
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < classes; c++) {
          jac[i][c][k] = (up[i][c] - down[i][c]) / (2 * eps);
        }
      }
    }
    double[][] probs = Losses.softmax(net.logits(batch.features())).toDoubleMatrix();
    double[] expected = new double[p * p];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < classes; c++) {
        for (int d = 0; d < classes; d++) {
          double lambda = (c == d ? probs[i][c] : 0) - probs[i][c] * probs[i][d];
          for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
              expected[a * p + b] += jac[i][c][a] * lambda * jac[i][d][b];
            }
          }
        }
      }
    }
    double err = relativeError(h, expected);
    assertTrue(err < 1e-6, arch + ": relative error " + err);
  }

  @Test
  void batchesAddUpSlicesAgreeAndTheResultIsExactlySymmetric() {
    Architecture arch = new Architecture(3, new int[] {4, 3}, 3, ActivationKind.TANH);
    Network net = randomNetwork(arch, 31, 0.8);
    GaussNewton.Batch whole = randomBatch(8, 3, 3, 32);
    int p = (int) arch.paramCount();
    double[] h = denseGaussNewton(net, whole);

    INDArray x = whole.features();
    int[] y = whole.labels();
    double[] split = new double[p * p];
    GaussNewton.accumulateHessian(
        net, x.get(NDArrayIndex.interval(0, 3)), Arrays.copyOfRange(y, 0, 3), split);
    GaussNewton.accumulateHessian(
        net, x.get(NDArrayIndex.interval(3, 8)), Arrays.copyOfRange(y, 3, 8), split);
    assertTrue(relativeError(split, h) < 1e-12);

    // 5 rows per slice: several slices, the last one partial, must give the same matrix.
    double[] sliced = new double[p * p];
    GaussNewton.accumulateHessian(net, x, y, sliced, 5L * p);
    assertTrue(relativeError(sliced, h) < 1e-12);

    for (int i = 0; i < p; i++) {
      for (int j = 0; j < i; j++) {
        assertEquals(h[i * p + j], h[j * p + i], 0.0, "asymmetric at " + i + "," + j);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("allArchitectures")
  void productSumEqualsDenseHessianTimesV(Architecture arch) {
    Network net = randomNetwork(arch, 41, 0.8);
    GaussNewton.Batch batch = randomBatch(7, arch.inputDim(), arch.classes(), 42);
    int p = (int) arch.paramCount();
    double[] h = denseGaussNewton(net, batch);
    for (long seed = 0; seed < 3; seed++) {
      double[][] v = randomMatrix(p, 3, 100 + seed);
      double[][] got =
          GaussNewton.productSum(net, batch.features(), batch.labels(), toArray(v))
              .toDoubleMatrix();
      double err = relativeError(got, multiply(h, p, v));
      assertTrue(err < 1e-9, arch + " seed " + seed + ": relative error " + err);
    }
  }

  @Test
  void productSumTakesAVectorAndKeepsTheNetworksDataType() {
    Architecture arch = new Architecture(3, new int[] {4}, 3, ActivationKind.TANH);
    Network net = randomNetwork(arch, 51, 0.8);
    GaussNewton.Batch batch = randomBatch(4, 3, 3, 52);
    int p = (int) arch.paramCount();
    double[][] v = randomMatrix(p, 1, 53);
    INDArray column = GaussNewton.productSum(net, batch.features(), batch.labels(), toArray(v));
    INDArray vector =
        GaussNewton.productSum(net, batch.features(), batch.labels(), toArray(v).reshape(p));
    assertArrayEquals(column.toDoubleVector(), vector.toDoubleVector(), 0.0);

    Network single = Network.fromFloats(arch, net.paramsAsFloats());
    INDArray f =
        GaussNewton.productSum(
            single,
            batch.features().castTo(DataType.FLOAT),
            batch.labels(),
            toArray(v).castTo(DataType.FLOAT));
    assertEquals(DataType.FLOAT, f.dataType());
    double err = relativeError(f.castTo(DataType.DOUBLE).toDoubleVector(), column.toDoubleVector());
    assertTrue(err < 1e-4, "float32 vs float64 relative error " + err);
  }

  @Test
  void productSumRejectsAMismatchedDataType() {
    Architecture arch = Architecture.logistic(2, 2);
    Network net = randomNetwork(arch, 61, 0.5);
    GaussNewton.Batch batch = randomBatch(2, 2, 2, 62);
    INDArray v = Nd4j.ones(DataType.FLOAT, arch.paramCount(), 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> GaussNewton.productSum(net, batch.features(), batch.labels(), v));
  }

  @ParameterizedTest
  @MethodSource("allArchitectures")
  void traceSumEqualsTheTraceOfTheDenseGaussNewtonMatrix(Architecture arch) {
    Network net = randomNetwork(arch, 51, 0.8);
    GaussNewton.Batch batch = randomBatch(7, arch.inputDim(), arch.classes(), 52);
    int p = (int) arch.paramCount();
    double[] h = denseGaussNewton(net, batch);
    double trace = 0;
    for (int i = 0; i < p; i++) {
      trace += h[i * p + i];
    }
    assertEquals(
        trace,
        GaussNewton.traceSum(net, batch.features(), batch.labels()),
        1e-10 * Math.max(1, trace));
  }
}
