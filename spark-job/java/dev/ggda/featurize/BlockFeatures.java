package dev.ggda.featurize;

import dev.ggda.math.Featurizer;
import java.io.Serializable;

/**
 * The featurized groups of one block, as they stay on the executors between featurize and score.
 * A plain class of arrays (no INDArray, no record: Kryo 4 can serialise neither).
 */
public final class BlockFeatures implements Serializable {
  public final int block;
  public final long[] groupIds;
  public final int[] sizes;
  /** Per slot, (groups x k) row-major: P^T g_G, the projected summed loss gradient. */
  public final float[][] loss;
  /** Per slot, (groups x k): P^T sum_i grad f_i (TRAK), or null. */
  public final float[][] margin;
  /** Per slot, k x k kernel contribution, or null; dropped once the kernel is reduced. */
  public double[][] kernel;
  public final long[] kernelRows;

  public BlockFeatures(int block, Featurizer.Output out) {
    this.block = block;
    this.groupIds = out.groupIds();
    this.sizes = out.sizes();
    this.loss = out.loss();
    this.margin = out.margin();
    this.kernel = out.kernel();
    this.kernelRows = out.kernelRows();
  }

  public int groups() {
    return groupIds.length;
  }
}
