package dev.ggda.math;

import dev.ggda.config.ProjectionKind;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The factored projection of DESIGN.md section 4: a dense layer's per-example weight gradient a d^T
 * (bias folded in as a constant-1 input) is projected as (P_in^T a)(P_out^T d)^T, i.e. by P_in (x)
 * P_out, and a group's sum by (P_in^T A^T)(D P_out): two small matmuls per layer instead of a p x k
 * GEMM, and no p-dimensional gradient at all. Layer l gets a share of the k features proportional
 * to its parameter count, split as k_in x k_out; a factor whose width reaches the layer's own width
 * is the identity (exact), so a large enough k reproduces the exact gradient. E[(P_in (x)
 * P_out)(P_in (x) P_out)^T] = I, so inner products are preserved in expectation.
 */
public final class FactoredProjection implements GradientSketch {
  private final Architecture arch;
  private final int[] kIn;
  private final int[] kOut;
  private final Projection[] in;
  private final Projection[] out;
  private final int dim;

  public FactoredProjection(
      Architecture arch, int requested, long seed, int member, int checkpoint) {
    this.arch = arch;
    int layers = arch.layers();
    kIn = new int[layers];
    kOut = new int[layers];
    in = new Projection[layers];
    out = new Projection[layers];
    long total = arch.paramCount();
    int sum = 0;
    for (int l = 0; l < layers; l++) {
      int inW = arch.layerIn(l) + 1;
      int outW = arch.layerOut(l);
      long share = Math.max(1, Math.round((double) requested * inW * outW / total));
      kOut[l] = (int) Math.min(outW, Math.max(1, Math.round(Math.sqrt(share))));
      kIn[l] = (int) Math.min(inW, Math.max(1, share / kOut[l]));
      long s = Seeds.mix(seed, 0xFAC7L + l);
      in[l] =
          kIn[l] == inW
              ? null
              : new Projection(ProjectionKind.RADEMACHER, inW, kIn[l], s, member, checkpoint);
      out[l] =
          kOut[l] == outW
              ? null
              : new Projection(
                  ProjectionKind.RADEMACHER, outW, kOut[l], Seeds.mix(s, 1), member, checkpoint);
      sum += kIn[l] * kOut[l];
    }
    dim = sum;
  }

  @Override
  public int dim() {
    return dim;
  }

  /** k_in of layer l: the width of its projected input (with the constant 1). */
  public int inWidth(int l) {
    return kIn[l];
  }

  /** k_out of layer l: the width of its projected output gradient. */
  public int outWidth(int l) {
    return kOut[l];
  }

  /** P_in of layer l ((in + 1) x k_in), or null when it is the identity. */
  public Projection inFactor(int l) {
    return in[l];
  }

  /** P_out of layer l (out x k_out), or null when it is the identity. */
  public Projection outFactor(int l) {
    return out[l];
  }

  @Override
  public long rowWidth() {
    return dim;
  }

  @Override
  public INDArray groupRows(BatchGradient g, int[] starts) {
    int m = starts.length - 1;
    int n = g.batchSize();
    INDArray e = perExample(g);
    if (m == n) {
      return e;
    }
    // Segment sums of the per-example outer products: S (m x n) indicator times E (n x k).
    INDArray s = Nd4j.zeros(e.dataType(), m, n);
    for (int j = 0; j < m; j++) {
      s.get(NDArrayIndex.point(j), NDArrayIndex.interval(starts[j], starts[j + 1])).assign(1.0);
    }
    return s.mmul(e);
  }

  @Override
  public INDArray finish(INDArray rows) {
    return rows;
  }

  @Override
  public INDArray perExample(BatchGradient g) {
    int n = g.batchSize();
    INDArray features = Nd4j.create(g.dataType(), n, dim);
    long off = 0;
    for (int l = 0; l < arch.layers(); l++) {
      INDArray a = g.layerInputs()[l];
      INDArray withOne = Nd4j.hstack(a, Nd4j.ones(a.dataType(), n, 1));
      INDArray x = in[l] == null ? withOne : in[l].project(withOne);
      INDArray d = g.outputGrads()[l];
      INDArray y = out[l] == null ? d : out[l].project(d);
      int ki = kIn[l];
      int ko = kOut[l];
      // Row i: vec(x_i y_i^T), row-major (k_in x k_out).
      INDArray outer =
          x.reshape(n, ki, 1).broadcast(n, ki, ko).mul(y.reshape(n, 1, ko).broadcast(n, ki, ko));
      features
          .get(NDArrayIndex.all(), NDArrayIndex.interval(off, off + (long) ki * ko))
          .assign(outer.reshape(n, (long) ki * ko));
      off += (long) ki * ko;
    }
    return features;
  }
}
