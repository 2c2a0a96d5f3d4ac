package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Gradient correctness of {@link Network} in float64: central finite differences over every
 * parameter, batched == sum of single-example passes, and per-example rows == single backward
 * passes. Parameters (biases included) are random, so no term hides behind a zero.
 */
class NetworkGradientTest {
  private static final double H = 1e-5;

  private static final Architecture[] ARCHS = {
    Architecture.logistic(5, 4),
    new Architecture(5, new int[] {6}, 3, ActivationKind.RELU),
    new Architecture(5, new int[] {6, 4}, 3, ActivationKind.TANH),
    new Architecture(5, new int[] {4, 3}, 3, ActivationKind.SIGMOID),
    new Architecture(5, new int[] {4, 3}, 3, ActivationKind.RELU),
  };

  private static Network randomNetwork(Architecture arch, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] p = new double[(int) arch.paramCount()];
    for (int i = 0; i < p.length; i++) {
      p[i] = r.nextGaussian() * 0.8;
    }
    return Network.fromDoubles(arch, p);
  }

  private static INDArray randomInputs(int n, int d, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        row[j] = r.nextGaussian();
      }
    }
    return Nd4j.createFromArray(x);
  }

  private static int[] randomLabels(int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
    }
    return y;
  }

  /** Central differences of {@code objective} over every parameter against {@code analytic}. */
  private static void assertMatchesFiniteDifferences(
      Network net, ToDoubleFunction<Network> objective, INDArray analytic, String what) {
    INDArray p = net.params();
    double maxAbs = 0;
    for (long k = 0; k < p.length(); k++) {
      double orig = p.getDouble(k);
      p.putScalar(k, orig + H);
      double up = objective.applyAsDouble(net);
      p.putScalar(k, orig - H);
      double down = objective.applyAsDouble(net);
      p.putScalar(k, orig);
      double fd = (up - down) / (2 * H);
      double an = analytic.getDouble(k);
      assertEquals(fd, an, 1e-6 * (1 + Math.abs(fd)), what + ": d/dtheta_" + k);
      maxAbs = Math.max(maxAbs, Math.abs(an));
    }
    assertTrue(
        maxAbs > 1e-3, what + ": gradient is (near) zero everywhere, the check would be vacuous");
  }

  @Test
  void summedCrossEntropyGradientMatchesFiniteDifferences() {
    long seed = 1;
    for (Architecture arch : ARCHS) {
      Network net = randomNetwork(arch, seed);
      INDArray x = randomInputs(7, arch.inputDim(), seed + 100);
      int[] y = randomLabels(7, arch.classes(), seed + 200);
      INDArray analytic = net.lossGradient(x, y).gradient().sum().dup();
      assertEquals(DataType.DOUBLE, analytic.dataType());
      assertMatchesFiniteDifferences(
          net,
          n -> Losses.crossEntropy(n.logits(x), y).sumNumber().doubleValue(),
          analytic,
          "CE " + arch);
      seed++;
    }
  }

  @Test
  void summedMarginGradientMatchesFiniteDifferences() {
    long seed = 11;
    for (Architecture arch : ARCHS) {
      Network net = randomNetwork(arch, seed);
      INDArray x = randomInputs(6, arch.inputDim(), seed + 100);
      int[] y = randomLabels(6, arch.classes(), seed + 200);
      Network.ForwardPass pass = net.forward(x);
      INDArray analytic = net.backward(pass, Losses.marginGradient(pass.logits(), y)).sum().dup();
      assertMatchesFiniteDifferences(
          net,
          n -> Losses.margin(n.logits(x), y).sumNumber().doubleValue(),
          analytic,
          "margin " + arch);
      seed++;
    }
  }

  @Test
  void lossSumIsTheSumOfPerExampleLosses() {
    Architecture arch = ARCHS[2];
    Network net = randomNetwork(arch, 3);
    INDArray x = randomInputs(5, arch.inputDim(), 4);
    int[] y = randomLabels(5, arch.classes(), 5);
    double sum = 0;
    for (int i = 0; i < 5; i++) {
      sum += net.lossGradient(row(x, i), new int[] {y[i]}).lossSum();
    }
    assertEquals(sum, net.lossGradient(x, y).lossSum(), 1e-12 * Math.abs(sum));
  }

  @Test
  void batchedSummedGradientEqualsSumOfSingleExampleGradients() {
    long seed = 21;
    for (Architecture arch : ARCHS) {
      Network net = randomNetwork(arch, seed);
      int n = 9;
      INDArray x = randomInputs(n, arch.inputDim(), seed + 100);
      int[] y = randomLabels(n, arch.classes(), seed + 200);
      INDArray batched = net.lossGradient(x, y).gradient().sum();
      INDArray summed = Nd4j.zeros(DataType.DOUBLE, arch.paramCount());
      for (int i = 0; i < n; i++) {
        summed.addi(net.lossGradient(row(x, i), new int[] {y[i]}).gradient().sum());
      }
      double scale = summed.norm2Number().doubleValue();
      assertTrue(scale > 1e-3, "vacuous");
      for (long k = 0; k < arch.paramCount(); k++) {
        assertEquals(
            summed.getDouble(k),
            batched.getDouble(k),
            1e-6 * Math.max(1e-3, Math.abs(summed.getDouble(k))),
            arch + " coordinate " + k);
      }
      seed++;
    }
  }

  @Test
  void perExampleRowsEqualSingleExampleBackwardPasses() {
    long seed = 31;
    for (Architecture arch : ARCHS) {
      Network net = randomNetwork(arch, seed);
      int n = 6;
      INDArray x = randomInputs(n, arch.inputDim(), seed + 100);
      int[] y = randomLabels(n, arch.classes(), seed + 200);
      // Use the margin's output-gradient for half the archs: perExample must not depend on the
      // loss.
      boolean margin = seed % 2 == 0;
      Network.ForwardPass pass = net.forward(x);
      BatchGradient bg =
          net.backward(
              pass,
              margin
                  ? Losses.marginGradient(pass.logits(), y)
                  : Losses.crossEntropyGradient(pass.logits(), y));
      INDArray per = bg.perExample(arch);
      assertEquals(n, per.rows());
      assertEquals(arch.paramCount(), per.columns());
      for (int i = 0; i < n; i++) {
        Network.ForwardPass one = net.forward(row(x, i));
        int[] yi = {y[i]};
        INDArray single =
            net.backward(
                    one,
                    margin
                        ? Losses.marginGradient(one.logits(), yi)
                        : Losses.crossEntropyGradient(one.logits(), yi))
                .sum();
        for (long k = 0; k < arch.paramCount(); k++) {
          assertEquals(
              single.getDouble(k),
              per.getDouble(i, k),
              1e-9,
              arch + " example " + i + " coordinate " + k);
        }
      }
      // And the rows add up to the batched sum.
      INDArray colSum = per.sum(0);
      for (long k = 0; k < arch.paramCount(); k++) {
        assertEquals(bg.sum().getDouble(k), colSum.getDouble(k), 1e-9);
      }
      seed++;
    }
  }

  @Test
  void backwardLeavesForwardPassAndParametersUntouched() {
    Architecture arch = ARCHS[3];
    Network net = randomNetwork(arch, 41);
    INDArray params = net.params().dup();
    INDArray x = randomInputs(4, arch.inputDim(), 42);
    INDArray xCopy = x.dup();
    int[] y = randomLabels(4, arch.classes(), 43);
    Network.ForwardPass pass = net.forward(x);
    INDArray first = net.backward(pass, Losses.crossEntropyGradient(pass.logits(), y)).sum().dup();
    INDArray second = net.backward(pass, Losses.crossEntropyGradient(pass.logits(), y)).sum();
    assertEquals(first, second);
    assertEquals(params, net.params());
    assertEquals(xCopy, x);
  }

  @Test
  void float32GradientAgreesWithFloat64() {
    Architecture arch = ARCHS[2];
    Network net64 = randomNetwork(arch, 51);
    Network net32 = Network.fromFloats(arch, net64.paramsAsFloats());
    INDArray x = randomInputs(8, arch.inputDim(), 52);
    int[] y = randomLabels(8, arch.classes(), 53);
    INDArray g64 =
        Network.fromDoubles(arch, toDoubles(net64.paramsAsFloats()))
            .lossGradient(x, y)
            .gradient()
            .sum();
    INDArray g32 = net32.lossGradient(x.castTo(DataType.FLOAT), y).gradient().sum();
    assertEquals(DataType.FLOAT, g32.dataType());
    double rel =
        g32.castTo(DataType.DOUBLE).sub(g64).norm2Number().doubleValue()
            / g64.norm2Number().doubleValue();
    assertTrue(rel < 1e-5, "float32 vs float64 relative error " + rel);
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static INDArray row(INDArray x, int i) {
    return x.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all()).dup();
  }
}
