package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-group gradient sums of a batch that holds several groups, from ONE batched backward pass:
 * group j (rows [starts[j], starts[j+1]) of the batch) gets sum_i A_l[i]^T D_l[i] for every layer.
 * Groups of one row are exactly the per-example gradients, so group size 1 takes the same code as
 * the per-example baseline.
 *
 * <p>Each group's layer block is one GEMM (A_j^T D_j, accumulated with beta = 1) written straight
 * into the group's row of the stacked matrix: no temporaries, and chunked groups add up in place.
 * Plain Java loops were 6x slower (1.4 vs 9 GMAC/s measured on 64-row groups, 784x128 layer).
 */
public final class GroupGradients {
  private GroupGradients() {}

  /**
   * @param starts m+1 offsets: group j is rows [starts[j], starts[j+1]); starts[m] = batch size
   * @return m x p, in the gradient's data type
   */
  public static INDArray sums(Architecture arch, BatchGradient g, int[] starts) {
    int m = starts.length - 1;
    INDArray out = Nd4j.zeros(g.dataType(), m, arch.paramCount());
    int[] rowOf = new int[m];
    for (int j = 0; j < m; j++) {
      rowOf[j] = j;
    }
    addSums(arch, g, starts, out, rowOf);
    return out;
  }

  /**
   * Adds the gradient sum of group j into row {@code rowOf[j]} of {@code out} (rows x p, row-major,
   * the gradient's data type).
   */
  public static void addSums(
      Architecture arch, BatchGradient g, int[] starts, INDArray out, int[] rowOf) {
    int m = starts.length - 1;
    int n = g.batchSize();
    if (starts[0] != 0 || starts[m] != n) {
      throw new IllegalArgumentException("group offsets must cover the batch: 0 .. " + n);
    }
    if (out.ordering() != 'c' || out.columns() != arch.paramCount()) {
      throw new IllegalArgumentException(
          "stacked group rows must be row-major with " + arch.paramCount() + " columns");
    }
    INDArray ones = Nd4j.ones(out.dataType(), 1, Math.max(1, maxSize(starts)));
    for (int l = 0; l < arch.layers(); l++) {
      INDArray a = g.layerInputs()[l];
      INDArray d = g.outputGrads()[l];
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      for (int j = 0; j < m; j++) {
        int size = starts[j + 1] - starts[j];
        if (size == 0) {
          continue;
        }
        INDArray aj = a.get(NDArrayIndex.interval(starts[j], starts[j + 1]), NDArrayIndex.all());
        INDArray dj = d.get(NDArrayIndex.interval(starts[j], starts[j + 1]), NDArrayIndex.all());
        INDArray w =
            out.get(NDArrayIndex.point(rowOf[j]), NDArrayIndex.interval(wOff, bOff))
                .reshape('c', in, o);
        Nd4j.gemm(aj, dj, w, true, false, 1.0, 1.0);
        INDArray b =
            out.get(NDArrayIndex.point(rowOf[j]), NDArrayIndex.interval(bOff, bOff + o))
                .reshape('c', 1, o);
        Nd4j.gemm(
            ones.get(NDArrayIndex.all(), NDArrayIndex.interval(0, size)),
            dj,
            b,
            false,
            false,
            1.0,
            1.0);
      }
    }
  }

  private static int maxSize(int[] starts) {
    int max = 0;
    for (int j = 0; j + 1 < starts.length; j++) {
      max = Math.max(max, starts[j + 1] - starts[j]);
    }
    return max;
  }
}
