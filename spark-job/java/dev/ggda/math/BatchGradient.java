package dev.ggda.math;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Result of one batched backward pass.
 *
 * @param sum gradient of the batch's summed output (flat, rank 1, parameter layout of {@link
 *     Architecture})
 * @param layerInputs A_l (batch x in_l) per layer
 * @param outputGrads D_l (batch x out_l) per layer; example i's gradient of W_l is A_l[i]^T D_l[i]
 */
public record BatchGradient(INDArray sum, INDArray[] layerInputs, INDArray[] outputGrads) {

  /** The data type of the pass. */
  public DataType dataType() {
    return layerInputs[0].dataType();
  }

  /**
   * The same pass with every example's output gradients scaled by {@code perExample[i]} (a column):
   * backpropagation is linear in each example's output gradient, so this is the backward pass of
   * the scaled outputs. No summed gradient.
   */
  public BatchGradient scaled(INDArray perExample) {
    INDArray[] d = new INDArray[outputGrads.length];
    for (int l = 0; l < d.length; l++) {
      d[l] = outputGrads[l].mulColumnVector(perExample);
    }
    return new BatchGradient(null, layerInputs, d);
  }

  /** The pass restricted to some examples (in the given order). No summed gradient. */
  public BatchGradient rows(int[] examples) {
    INDArray[] a = new INDArray[layerInputs.length];
    INDArray[] d = new INDArray[outputGrads.length];
    for (int l = 0; l < a.length; l++) {
      a[l] = layerInputs[l].getRows(examples);
      d[l] = outputGrads[l].getRows(examples);
    }
    return new BatchGradient(null, a, d);
  }

  public int batchSize() {
    return (int) layerInputs[0].rows();
  }

  /**
   * Materialises the per-example gradients (batch x params) from A_l and D_l as outer products: the
   * batched per-example path (its rows then go through one projection GEMM). Filled by plain array
   * loops, which the JIT vectorises: ND4J's broadcast ops on (batch, in, out) views were 2x slower
   * than the projection GEMM itself. Zero activations (ReLU) are skipped.
   */
  public INDArray perExample(Architecture arch) {
    int n = batchSize();
    long p = arch.paramCount();
    if ((long) n * p > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "per-example gradients of "
              + n
              + " x "
              + p
              + " do not fit one array; use smaller batches");
    }
    if (dataType() == DataType.DOUBLE) {
      return perExampleDouble(arch, n, p);
    }
    float[] out = new float[(int) (n * p)];
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      int wOff = (int) arch.weightOffset(l);
      int bOff = (int) arch.biasOffset(l);
      float[] a = Flat.floats(layerInputs[l]);
      float[] d = Flat.floats(outputGrads[l]);
      for (int i = 0; i < n; i++) {
        int row = (int) (i * p);
        int dOff = i * o;
        for (int j = 0; j < in; j++) {
          float aij = a[i * in + j];
          if (aij == 0f) {
            continue;
          }
          int off = row + wOff + j * o;
          for (int c = 0; c < o; c++) {
            out[off + c] = aij * d[dOff + c];
          }
        }
        System.arraycopy(d, dOff, out, row + bOff, o);
      }
    }
    return Flat.matrix(out, n, p);
  }

  /** The same in float64 (used by the exact Hessian and the float64 test paths). */
  private INDArray perExampleDouble(Architecture arch, int n, long p) {
    double[] out = new double[(int) (n * p)];
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int o = arch.layerOut(l);
      int wOff = (int) arch.weightOffset(l);
      int bOff = (int) arch.biasOffset(l);
      double[] a = Flat.doubles(layerInputs[l]);
      double[] d = Flat.doubles(outputGrads[l]);
      for (int i = 0; i < n; i++) {
        int row = (int) (i * p);
        int dOff = i * o;
        for (int j = 0; j < in; j++) {
          double aij = a[i * in + j];
          if (aij == 0) {
            continue;
          }
          int off = row + wOff + j * o;
          for (int c = 0; c < o; c++) {
            out[off + c] = aij * d[dOff + c];
          }
        }
        System.arraycopy(d, dOff, out, row + bOff, o);
      }
    }
    return Flat.matrix(out, n, p);
  }
}
