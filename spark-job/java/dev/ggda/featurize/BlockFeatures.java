package dev.ggda.featurize;

import dev.ggda.math.Featurizer;
import java.io.Serializable;

/**
 * The featurized groups of one block, as they stay on the executors between featurize and score. A
 * plain class of arrays (no INDArray, no record: Kryo 4 can serialise neither).
 */
public final class BlockFeatures implements Serializable {
  public final int block;
  public final long[] groupIds;
  public final int[] sizes;

  /** Per slot, (groups x k) row-major: P^T g_G, the projected summed loss gradient. */
  public final float[][] loss;

  /**
   * Per slot, (groups x k): P^T sum_i grad f_i (TRAK's chi_G), or null; null with the group kernel,
   * where chi_G is estimated from the loss row as -(|G| / sum Q) loss (exact for one member).
   */
  public final float[][] margin;

  /** Per slot, each group's sum of Q_i = 1 - p_y (TRAK's group kernel), or null. */
  public final float[][] qSums;

  /** Per slot, k x k kernel contribution, or null; dropped once the kernel is reduced. */
  public double[][] kernel;

  public final long[] kernelRows;

  public BlockFeatures(int block, Featurizer.Output out) {
    this(
        block,
        out.groupIds(),
        out.sizes(),
        out.loss(),
        out.margin(),
        out.qSums(),
        out.kernel(),
        out.kernelRows());
  }

  private BlockFeatures(
      int block,
      long[] groupIds,
      int[] sizes,
      float[][] loss,
      float[][] margin,
      float[][] qSums,
      double[][] kernel,
      long[] kernelRows) {
    this.block = block;
    this.groupIds = groupIds;
    this.sizes = sizes;
    this.loss = loss;
    this.margin = margin;
    this.qSums = qSums;
    this.kernel = kernel;
    this.kernelRows = kernelRows;
  }

  /** The same groups with other per-slot features in place of the loss features. */
  public BlockFeatures withLoss(float[][] replacement) {
    return new BlockFeatures(block, groupIds, sizes, replacement, margin, qSums, null, kernelRows);
  }

  public int groups() {
    return groupIds.length;
  }
}
