package dev.ggda.math;

import static dev.ggda.math.GaussNewtonFixtures.randomMatrix;
import static dev.ggda.math.GaussNewtonFixtures.randomNetwork;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-example squared gradient norms against one backward pass per example (its summed gradient is
 * that example's gradient) and, for softmax regression, the closed form |p - e_y|^2 (|x|^2 + 1).
 */
class ExampleGradientNormsTest {
  private static final Architecture[] ARCHS = {
    Architecture.logistic(5, 4),
    new Architecture(5, new int[] {6}, 3, ActivationKind.RELU),
    new Architecture(5, new int[] {6, 4}, 3, ActivationKind.TANH),
  };

  /** The norms of the batched pass of dLogits against one pass per example, for every arch. */
  private static void matchesOnePassPerExample(BiFunction<INDArray, int[], INDArray> dLogits) {
    for (Architecture arch : ARCHS) {
      Network net = randomNetwork(arch, 7, 1.5);
      double[][] x = randomMatrix(9, arch.inputDim(), 11);
      int[] y = new int[x.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = i % arch.classes();
      }
      Network.ForwardPass batch = net.forward(Nd4j.createFromArray(x));
      double[] got =
          ExampleGradientNorms.squared(
              net.backward(batch, dLogits.apply(batch.logits(), y), false));
      for (int i = 0; i < x.length; i++) {
        Network.ForwardPass one = net.forward(Nd4j.createFromArray(new double[][] {x[i]}));
        INDArray g = net.backward(one, dLogits.apply(one.logits(), new int[] {y[i]})).sum();
        double want = g.mul(g).sumNumber().doubleValue();
        assertEquals(want, got[i], 1e-10 * Math.max(1, want), arch + " example " + i);
      }
    }
  }

  @Test
  void lossNormsMatchOneBackwardPassPerExample() {
    matchesOnePassPerExample(Losses::crossEntropyGradient);
  }

  @Test
  void marginNormsMatchOneMarginBackwardPassPerExample() {
    matchesOnePassPerExample(Losses::marginGradient);
    Network net = randomNetwork(ARCHS[1], 5, 1.5);
    double[][] x = randomMatrix(4, 5, 13);
    int[] y = {0, 1, 2, 0};
    Network.ForwardPass pass = net.forward(Nd4j.createFromArray(x));
    assertEquals(
        java.util.Arrays.toString(
            ExampleGradientNorms.squared(
                net.backward(pass, Losses.marginGradient(pass.logits(), y), false))),
        java.util.Arrays.toString(
            ExampleGradientNorms.squaredMargin(net, Nd4j.createFromArray(x), y)));
  }

  @Test
  void softmaxRegressionHasTheClosedForm() {
    Architecture arch = Architecture.logistic(4, 3);
    Network net = randomNetwork(arch, 3, 1.5);
    double[][] x = randomMatrix(6, 4, 5);
    int[] y = {0, 1, 2, 2, 1, 0};
    Network.ForwardPass pass = net.forward(Nd4j.createFromArray(x));
    double[][] p = Losses.softmax(pass.logits()).castTo(DataType.DOUBLE).toDoubleMatrix();
    double[] got =
        ExampleGradientNorms.squared(
            net.backward(pass, Losses.crossEntropyGradient(pass.logits(), y), false));
    for (int i = 0; i < x.length; i++) {
      double r2 = 0;
      for (int c = 0; c < 3; c++) {
        double e = p[i][c] - (c == y[i] ? 1 : 0);
        r2 += e * e;
      }
      double x2 = 1;
      for (double v : x[i]) {
        x2 += v * v;
      }
      assertEquals(r2 * x2, got[i], 1e-10 * r2 * x2);
    }
  }
}
