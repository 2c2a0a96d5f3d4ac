package dev.ggda.harness;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * This machine's float32 GEMM rate through ND4J, on the shape that dominates featurize (a block of
 * gradient rows times the projection): the yardstick the benchmark prints the featurize FLOP rate
 * against. Runs on the calling thread with whatever BLAS threads are set.
 */
public final class GemmProbe {
  private GemmProbe() {}

  /**
   * @return GFLOP/s of C = A B with A rows x inner and B inner x cols (2 rows inner cols flops per
   *     product), best of {@code repeats} after one warm-up
   */
  public static double gflops(int rows, int inner, int cols, int repeats) {
    INDArray a = Nd4j.rand(DataType.FLOAT, rows, inner);
    INDArray b = Nd4j.rand(DataType.FLOAT, inner, cols);
    INDArray c = Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
    a.mmuli(b, c);
    double best = Double.MAX_VALUE;
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      a.mmuli(b, c);
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
    }
    return 2.0 * rows * inner * cols / best / 1e9;
  }
}
