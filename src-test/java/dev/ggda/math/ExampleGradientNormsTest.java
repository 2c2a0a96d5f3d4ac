package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import java.util.SplittableRandom;
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

  private static Network network(Architecture arch, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] p = new double[(int) arch.paramCount()];
    for (int i = 0; i < p.length; i++) {
      p[i] = r.nextGaussian() * 0.8;
    }
    return Network.fromDoubles(arch, p);
  }

  private static double[][] inputs(int n, int d, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        row[j] = r.nextGaussian();
      }
    }
    return x;
  }

  @Test
  void matchesOneBackwardPassPerExample() {
    for (Architecture arch : ARCHS) {
      Network net = network(arch, 7);
      double[][] x = inputs(9, arch.inputDim(), 11);
      int[] y = new int[x.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = i % arch.classes();
      }
      double[] got = ExampleGradientNorms.squared(net, Nd4j.createFromArray(x), y);
      for (int i = 0; i < x.length; i++) {
        INDArray xi = Nd4j.createFromArray(new double[][] {x[i]});
        INDArray g = net.lossGradient(xi, new int[] {y[i]}).gradient().sum();
        double want = g.mul(g).sumNumber().doubleValue();
        assertEquals(want, got[i], 1e-10 * Math.max(1, want), arch + " example " + i);
      }
    }
  }

  @Test
  void marginNormsMatchOneMarginBackwardPassPerExample() {
    for (Architecture arch : ARCHS) {
      Network net = network(arch, 5);
      double[][] x = inputs(7, arch.inputDim(), 13);
      int[] y = new int[x.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = (i + 1) % arch.classes();
      }
      double[] got = ExampleGradientNorms.squaredMargin(net, Nd4j.createFromArray(x), y);
      for (int i = 0; i < x.length; i++) {
        INDArray xi = Nd4j.createFromArray(new double[][] {x[i]});
        Network.ForwardPass pass = net.forward(xi);
        INDArray g =
            net.backward(pass, Losses.marginGradient(pass.logits(), new int[] {y[i]})).sum();
        double want = g.mul(g).sumNumber().doubleValue();
        assertEquals(want, got[i], 1e-10 * Math.max(1, want), arch + " example " + i);
      }
    }
  }

  @Test
  void softmaxRegressionHasTheClosedForm() {
    Architecture arch = Architecture.logistic(4, 3);
    Network net = network(arch, 3);
    double[][] x = inputs(6, 4, 5);
    int[] y = {0, 1, 2, 2, 1, 0};
    INDArray logits = net.logits(Nd4j.createFromArray(x));
    double[][] p = Losses.softmax(logits).castTo(DataType.DOUBLE).toDoubleMatrix();
    double[] got = ExampleGradientNorms.squared(net, Nd4j.createFromArray(x), y);
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
