package dev.ggda.harness;

import dev.ggda.math.Architecture;
import dev.ggda.math.BatchGradient;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.math.Projection;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The yardstick for the per-example path: TRAK's per-example features written the straightforward
 * batched way the Python tools do it (per-sample gradients by vmap, then one matmul with a dense
 * P). Per batch: one forward/backward; the per-example gradients materialised by batched outer
 * products (a rank-3 matmul, A[:, :, None] @ D[:, None, :]) and assembled into a batch x p matrix
 * next to the bias gradients; one GEMM with the same dense P as {@link Featurizer}; the exact
 * kernel summed from the features. It differs from {@link Featurizer}'s per-example path only in
 * how the per-example gradients are formed, so the two have the same projection flops. Used by
 * {@code ggda benchmark} only.
 */
public final class ReferenceFeaturizer {
  private ReferenceFeaturizer() {}

  /**
   * Per-example margin features phi (rows x k) of the given rows, and their exact kernel sum added
   * to {@code kernel} (k x k, float64).
   *
   * @param x rows x d, in the network's data type
   */
  public static INDArray perExample(
      Network net, Projection proj, INDArray x, int[] y, int batch, INDArray kernel) {
    Architecture arch = net.architecture();
    long n = x.rows();
    INDArray phi = Nd4j.create(net.dataType(), n, proj.dim());
    for (long r0 = 0; r0 < n; r0 += batch) {
      long r1 = Math.min(n, r0 + batch);
      long b = r1 - r0;
      INDArray xb = x.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all());
      Network.ForwardPass fp = net.forward(xb);
      BatchGradient g =
          net.backward(
              fp,
              Losses.marginGradient(
                  fp.logits(), java.util.Arrays.copyOfRange(y, (int) r0, (int) r1)),
              false);
      INDArray grads = Nd4j.create(net.dataType(), b, arch.paramCount());
      for (int l = 0; l < arch.layers(); l++) {
        int in = arch.layerIn(l);
        int o = arch.layerOut(l);
        INDArray a = g.layerInputs()[l].reshape('c', b, in, 1);
        INDArray d = g.outputGrads()[l];
        INDArray outer = Nd4j.matmul(a, d.reshape('c', b, 1, o));
        grads
            .get(
                NDArrayIndex.all(), NDArrayIndex.interval(arch.weightOffset(l), arch.biasOffset(l)))
            .assign(outer.reshape('c', b, (long) in * o));
        grads
            .get(
                NDArrayIndex.all(),
                NDArrayIndex.interval(arch.biasOffset(l), arch.biasOffset(l) + o))
            .assign(d);
      }
      INDArray f = proj.project(grads);
      phi.get(NDArrayIndex.interval(r0, r1), NDArrayIndex.all()).assign(f);
      kernel.addi(f.transpose().mmul(f).castTo(DataType.DOUBLE));
    }
    return phi;
  }
}
