package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Result of one batched backward pass.
 *
 * @param sum gradient of the batch's summed output (flat, rank 1, parameter layout of {@link
 *     Architecture})
 * @param layerInputs A_l (batch x in_l) per layer
 * @param outputGrads D_l (batch x out_l) per layer; example i's gradient of W_l is A_l[i]^T D_l[i]
 */
public record BatchGradient(INDArray sum, INDArray[] layerInputs, INDArray[] outputGrads) {

  public int batchSize() {
    return (int) layerInputs[0].rows();
  }

  /**
   * Materialises the per-example gradients (batch x params) from A_l and D_l as outer products: for
   * tests and small baselines only; it is the very matrix the group path avoids.
   */
  public INDArray perExample(Architecture arch) {
    int n = batchSize();
    INDArray out = Nd4j.create(sum.dataType(), n, arch.paramCount());
    for (int l = 0; l < arch.layers(); l++) {
      INDArray a = layerInputs[l];
      INDArray d = outputGrads[l];
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      // Row i of the (n x in*o) block is vec(a_i^T d_i): broadcast a_i over o columns times d_i tiled.
      INDArray aRep = a.reshape(n, in, 1).broadcast(n, in, o);
      INDArray dRep = d.reshape(n, 1, o).broadcast(n, in, o);
      out.get(NDArrayIndex.all(), NDArrayIndex.interval(wOff, bOff)).assign(aRep.mul(dRep).reshape(n, (long) in * o));
      out.get(NDArrayIndex.all(), NDArrayIndex.interval(bOff, bOff + o)).assign(d);
    }
    return out;
  }
}
