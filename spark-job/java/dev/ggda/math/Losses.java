package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax cross-entropy and TRAK's margin, row-wise over a batch of logits, with their gradients
 * with respect to the logits. All stable under large logits (max-shifted).
 */
public final class Losses {
  private Losses() {}

  /** One-hot matrix (batch x classes) in the logits' data type. */
  public static INDArray oneHot(
      int[] labels, int classes, org.nd4j.linalg.api.buffer.DataType dtype) {
    float[] flat = new float[labels.length * classes];
    for (int i = 0; i < labels.length; i++) {
      flat[i * classes + labels[i]] = 1f;
    }
    return Nd4j.createFromArray(flat).reshape(labels.length, classes).castTo(dtype);
  }

  /** Row-wise softmax. */
  public static INDArray softmax(INDArray logits) {
    INDArray shifted = logits.subColumnVector(logits.max(1).reshape(-1, 1));
    INDArray e = Transforms.exp(shifted, false);
    return e.diviColumnVector(e.sum(1).reshape(-1, 1));
  }

  /** Row-wise log-sum-exp, as a column (batch x 1). */
  public static INDArray logSumExp(INDArray logits) {
    INDArray max = logits.max(1).reshape(-1, 1);
    INDArray e = Transforms.exp(logits.subColumnVector(max), false);
    return Transforms.log(e.sum(1).reshape(-1, 1), false).addi(max);
  }

  /** Per-example loss l_i = logsumexp(z_i) - z_{i,y_i} (length batch). */
  public static INDArray crossEntropy(INDArray logits, int[] labels) {
    INDArray onehot = oneHot(labels, (int) logits.columns(), logits.dataType());
    INDArray picked = logits.mul(onehot).sum(1);
    return logSumExp(logits).reshape(-1).subi(picked);
  }

  /**
   * dl_i/dz_i = softmax(z_i) - onehot(y_i). The true-class entry p_y - 1 is computed as minus the
   * sum of the other classes' probabilities: 1 - p_y cancels to exactly 0 in float32 once p_y > 1 -
   * 6e-8 (margin above ~16, common for a trained model), which would drop that entry, leave the row
   * not summing to 0 and break dl/dz = -(1 - p_y) df/dz.
   */
  public static INDArray crossEntropyGradient(INDArray logits, int[] labels) {
    INDArray onehot = oneHot(labels, (int) logits.columns(), logits.dataType());
    INDArray others = softmax(logits).muli(onehot.rsub(1.0));
    INDArray q = others.sum(1).reshape(-1, 1);
    return others.subi(onehot.mulColumnVector(q));
  }

  /** TRAK's margin f_i = z_{i,y} - logsumexp_{c != y} z_{i,c} (length batch). */
  public static INDArray margin(INDArray logits, int[] labels) {
    INDArray onehot = oneHot(labels, (int) logits.columns(), logits.dataType());
    INDArray picked = logits.mul(onehot).sum(1);
    // Mask the true class with -inf-like values before the log-sum-exp over the others.
    INDArray others = logits.add(onehot.mul(-1e30));
    return picked.subi(logSumExp(others).reshape(-1));
  }

  /** df_i/dz_i = onehot(y) - softmax over the other classes (0 at y). */
  public static INDArray marginGradient(INDArray logits, int[] labels) {
    INDArray onehot = oneHot(labels, (int) logits.columns(), logits.dataType());
    INDArray others = softmax(logits.add(onehot.mul(-1e30)));
    others.muli(onehot.rsub(1.0));
    return onehot.subi(others);
  }

  /**
   * Q_i = 1 - p_{y_i}: TRAK's per-example weight, also -dl/df (length batch). Summed over the other
   * classes rather than subtracted from 1, so it stays accurate (not 0) for confident examples.
   */
  public static INDArray oneMinusTrueProbability(INDArray logits, int[] labels) {
    INDArray onehot = oneHot(labels, (int) logits.columns(), logits.dataType());
    return softmax(logits).muli(onehot.rsub(1.0)).sum(1);
  }
}
