package dev.ggda.attribution;

import dev.ggda.math.Flat;
import java.io.Serializable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What the executors need to turn group features into scores, solved on the driver: score(G, t) =
 * sum_s F_s[G] . v_s[:, t] (divided by ||F[G]|| for cosine), where F_s[G] is the group's projected
 * loss-gradient sum under slot s; and self(G) = sum_s w_s a_s[G]^T M_s b_s[G] with a, b the loss or
 * margin features and M_s a k x k matrix (identity when null). Plain arrays only: it is broadcast.
 */
public final class ScoreOperator implements Serializable {
  final int k;
  final long[] targetIds;

  /** Per slot, k x T row-major. */
  final float[][] v;

  /** Divide each score by the group feature's norm (gradcos). */
  final boolean cosine;

  /** Per slot, k x k row-major (self-influence metric), or null for the identity. */
  final float[][] selfMatrix;

  final double[] selfWeight;

  /** Self-influence's left factor: margin features (TRAK) instead of loss features. */
  final boolean selfLeftMargin;

  /** False where self-influence is not computed (say why in selfNote). */
  final boolean selfInfluence;

  /**
   * v and selfMatrix as off-heap matrices, made once per copy of the operator (one per executor)
   * instead of once per scored block; never serialised.
   */
  private transient INDArray[] vMatrices;

  private transient INDArray[] selfMatrices;

  /** Slot s's k x T operator. */
  synchronized INDArray vMatrix(int s) {
    if (vMatrices == null) {
      vMatrices = new INDArray[v.length];
    }
    if (vMatrices[s] == null) {
      vMatrices[s] = Flat.matrix(v[s], k, targets());
    }
    return vMatrices[s];
  }

  /** Slot s's k x k self-influence metric, or null for the identity. */
  synchronized INDArray selfMatrix(int s) {
    if (selfMatrix == null || selfMatrix[s] == null) {
      return null;
    }
    if (selfMatrices == null) {
      selfMatrices = new INDArray[selfMatrix.length];
    }
    if (selfMatrices[s] == null) {
      selfMatrices[s] = Flat.matrix(selfMatrix[s], k, k);
    }
    return selfMatrices[s];
  }

  /**
   * TRAK: self-influence pairs each slot's margin features with its loss features through the
   * inverse kernel; {@code inverseKernels} null means it is not computed.
   */
  static ScoreOperator trak(
      int k, long[] targetIds, float[][] v, float[][] inverseKernels, double[] weights) {
    return new ScoreOperator(
        k, targetIds, v, false, inverseKernels, weights, true, inverseKernels != null);
  }

  /**
   * TracIn, GradDot, GradCos: no solve; self-influence is the weighted squared norm of the loss
   * features.
   */
  static ScoreOperator linear(
      int k,
      long[] targetIds,
      float[][] v,
      double[] weights,
      boolean cosine,
      boolean selfInfluence) {
    return new ScoreOperator(k, targetIds, v, cosine, null, weights, false, selfInfluence);
  }

  /**
   * Influence functions: self-influence through the inverse Hessian; {@code inverseHessian} null
   * means it is not computed.
   */
  static ScoreOperator influence(
      int k, long[] targetIds, float[] v, float[] inverseHessian, double weight) {
    return new ScoreOperator(
        k,
        targetIds,
        new float[][] {v},
        false,
        inverseHessian == null ? null : new float[][] {inverseHessian},
        new double[] {weight},
        false,
        inverseHessian != null);
  }

  /**
   * Scores alone, no self-influence (conjugate-gradient influence: it would cost one more solve per
   * group).
   */
  static ScoreOperator scoresOnly(int k, long[] targetIds, float[] v) {
    return new ScoreOperator(
        k, targetIds, new float[][] {v}, false, null, new double[] {0}, false, false);
  }

  private ScoreOperator(
      int k,
      long[] targetIds,
      float[][] v,
      boolean cosine,
      float[][] selfMatrix,
      double[] selfWeight,
      boolean selfLeftMargin,
      boolean selfInfluence) {
    this.k = k;
    this.targetIds = targetIds;
    this.v = v;
    this.cosine = cosine;
    this.selfMatrix = selfMatrix;
    this.selfWeight = selfWeight;
    this.selfLeftMargin = selfLeftMargin;
    this.selfInfluence = selfInfluence;
  }

  public int targetCount() {
    return targetIds.length;
  }

  int targets() {
    return targetIds.length;
  }

  int slots() {
    return v.length;
  }
}
