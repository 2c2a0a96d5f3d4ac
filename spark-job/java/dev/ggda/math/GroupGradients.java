package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-group gradient sums of a batch that holds several groups, from ONE batched backward pass:
 * group j (rows [starts[j], starts[j+1]) of the batch) gets sum_i A_l[i]^T D_l[i] for every layer,
 * stacked as row j of an (m x p) matrix. Groups of one row are exactly the per-example gradients,
 * so group size 1 takes the same code as the per-example baseline.
 */
public final class GroupGradients {
  /** Mean group size below which the per-example outer products plus a segment-sum GEMM win. */
  static final double SMALL_GROUPS = 4.0;

  private GroupGradients() {}

  /**
   * @param starts m+1 offsets: group j is rows [starts[j], starts[j+1]); starts[m] = batch size
   * @return m x p, in the gradient's data type
   */
  public static INDArray sums(Architecture arch, BatchGradient g, int[] starts) {
    int m = starts.length - 1;
    int n = g.batchSize();
    if (starts[0] != 0 || starts[m] != n) {
      throw new IllegalArgumentException("group offsets must cover the batch: 0 .. " + n);
    }
    if (m == n) {
      return g.perExample(arch);
    }
    if ((double) n / m < SMALL_GROUPS) {
      // Segment sum of the per-example rows: S (m x n) indicator times E (n x p).
      INDArray s = Nd4j.zeros(g.sum().dataType(), m, n);
      for (int j = 0; j < m; j++) {
        for (int i = starts[j]; i < starts[j + 1]; i++) {
          s.putScalar(j, i, 1.0);
        }
      }
      return s.mmul(g.perExample(arch));
    }
    INDArray out = Nd4j.create(g.sum().dataType(), m, arch.paramCount());
    for (int l = 0; l < arch.layers(); l++) {
      INDArray a = g.layerInputs()[l];
      INDArray d = g.outputGrads()[l];
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      int o = arch.layerOut(l);
      for (int j = 0; j < m; j++) {
        if (starts[j + 1] == starts[j]) {
          continue;
        }
        INDArray aj = a.get(NDArrayIndex.interval(starts[j], starts[j + 1]), NDArrayIndex.all());
        INDArray dj = d.get(NDArrayIndex.interval(starts[j], starts[j + 1]), NDArrayIndex.all());
        out.get(NDArrayIndex.point(j), NDArrayIndex.interval(wOff, bOff)).assign(aj.transpose().mmul(dj).reshape(-1));
        out.get(NDArrayIndex.point(j), NDArrayIndex.interval(bOff, bOff + o)).assign(dj.sum(0));
      }
    }
    return out;
  }

}
