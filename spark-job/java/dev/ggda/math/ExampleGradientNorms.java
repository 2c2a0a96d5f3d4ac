package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Squared norms of per-example loss gradients without materialising them: example i's gradient of
 * layer l is the outer product A_l[i]^T D_l[i] (weights) and D_l[i] (bias), so its squared norm is
 * sum over l of |D_l[i]|^2 (|A_l[i]|^2 + 1). One batched forward and backward pass, no batch x
 * params array. Spark-free.
 */
public final class ExampleGradientNorms {
  private ExampleGradientNorms() {}

  /**
   * |grad_theta f(x_i, y_i)|^2 of TRAK's margin f = z_y - logsumexp of the other logits for each
   * row: the diagonal of the per-example kernel before projection.
   */
  public static double[] squaredMargin(Network net, INDArray x, int[] labels) {
    Network.ForwardPass pass = net.forward(x);
    INDArray dLogits = Losses.marginGradient(pass.logits(), labels);
    return squared(net.backward(pass, dLogits, false));
  }

  /** The squared per-example gradient norms of a batched backward pass. */
  public static double[] squared(BatchGradient g) {
    int n = g.batchSize();
    double[] out = new double[n];
    for (int l = 0; l < g.layerInputs().length; l++) {
      double[] a = rowSquares(g.layerInputs()[l]);
      double[] d = rowSquares(g.outputGrads()[l]);
      for (int i = 0; i < n; i++) {
        out[i] += d[i] * (a[i] + 1.0);
      }
    }
    return out;
  }

  private static double[] rowSquares(INDArray m) {
    return m.mul(m).sum(1).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
  }
}
