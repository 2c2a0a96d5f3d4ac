package dev.ggda.training;

import dev.ggda.math.Flat;
import dev.ggda.math.Network;
import java.util.SplittableRandom;
import java.util.function.LongToDoubleFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One epoch of mini-batch SGD over chosen rows, in place on a network: theta <- theta - lr_s *
 * (g_sum(B)/|B| + l2 * theta). Shared by the driver-side trainer and the executor-side shards of
 * the distributed trainer.
 */
final class SgdEpoch {
  /** Called after every step with the number of steps taken so far. */
  interface StepListener {
    void afterStep(long step);
  }

  private SgdEpoch() {}

  /** Returns the summed loss over the epoch (each row counted once, at the parameters it saw). */
  static double run(
      Network net,
      TrainingData data,
      int[] rows,
      int batchSize,
      double l2,
      LongToDoubleFunction rateAt,
      long firstStep,
      SplittableRandom shuffle,
      StepListener listener) {
    int n = rows.length;
    int dim = data.dim();
    int bs = Math.min(batchSize, n);
    int[] perm = MemberSubsets.permutation(n, shuffle);
    INDArray params = net.params();
    float[] xb = new float[bs * dim];
    int[] yb = new int[bs];
    double lossSum = 0;
    long step = firstStep;
    for (int start = 0; start < n; start += bs) {
      int size = Math.min(bs, n - start);
      float[] xs = size == bs ? xb : new float[size * dim];
      int[] ys = size == bs ? yb : new int[size];
      for (int i = 0; i < size; i++) {
        int r = rows[perm[start + i]];
        System.arraycopy(data.x(), r * dim, xs, i * dim, dim);
        ys[i] = data.y()[r];
      }
      Network.LossGradient lg = net.lossGradient(Flat.matrix(xs, 0, size, dim), ys);
      lossSum += lg.lossSum();
      INDArray update = lg.gradient().sum().divi(size);
      if (l2 > 0) {
        update.addi(params.mul(l2));
      }
      params.subi(update.muli(rateAt.applyAsDouble(step)));
      step++;
      if (listener != null) {
        listener.afterStep(step);
      }
    }
    return lossSum;
  }

  static long steps(int rows, int batchSize) {
    int bs = Math.min(batchSize, rows);
    return (rows + bs - 1) / bs;
  }
}
