package dev.ggda.math;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The Gauss-Newton matrix of the summed softmax cross-entropy over a batch, sum_i J_i^T Lambda_i
 * J_i with J_i = d logits_i / d theta (classes x p) and Lambda_i = diag(p_i) - p_i p_i^T the
 * softmax Hessian (DESIGN.md section 3). For logistic regression (no hidden layer) it is the exact
 * Hessian.
 *
 * <p>Neither the L2 term nor the 1/n of the training objective is included: both are added once by
 * whoever sums the batches (H = (1/n) sum_batches + lambda I), so batch results simply add up.
 *
 * <p>Lambda_i does not depend on the label, so {@code labels} only has to match the batch; it is
 * taken so that every batch-level call in the package has the same shape.
 */
public final class GaussNewton {
  /** Elements of one temporary (rows x p) Hessian slice: about 32 MB in float64. */
  private static final long SLICE_ELEMENTS = 1L << 22;

  private GaussNewton() {}

  /** A local batch of training rows (features batch x inputDim, one label per row). */
  public record Batch(INDArray features, int[] labels) {
    public Batch {
      if (features.rows() != labels.length) {
        throw new IllegalArgumentException(
            features.rows() + " feature rows but " + labels.length + " labels");
      }
    }

    public int size() {
      return labels.length;
    }
  }

  /**
   * Adds sum_i J_i^T Lambda_i J_i of the batch to {@code h}, a dense p x p row-major float64
   * matrix. {@code h} must be symmetric on entry (zeros, or earlier accumulations) and stays
   * exactly symmetric: only the upper triangle is computed and mirrored.
   *
   * <p>Uses Lambda = sum_c p_c (e_c - p)(e_c - p)^T: with V_c the per-example gradients of the
   * backward pass of dLogits = sqrt(p_c)(e_c - p) (one pass over the whole batch per class), the
   * batch's term is sum_c V_c^T V_c, a GEMM per class.
   */
  public static void accumulateHessian(Network net, INDArray x, int[] labels, double[] h) {
    accumulateHessian(net, x, labels, h, SLICE_ELEMENTS);
  }

  /** As above with an explicit slice size, so tests can exercise the multi-slice path. */
  static void accumulateHessian(
      Network net, INDArray x, int[] labels, double[] h, long sliceElements) {
    Architecture arch = net.architecture();
    int p = Math.toIntExact(arch.paramCount());
    if (h.length != (long) p * p) {
      throw new IllegalArgumentException("h has " + h.length + " entries, expected " + p + "x" + p);
    }
    checkBatch(x, labels);
    Network.ForwardPass pass = net.forward(x);
    INDArray probs = Losses.softmax(pass.logits());
    INDArray sqrtProbs = Transforms.sqrt(probs, true);
    for (int c = 0; c < arch.classes(); c++) {
      INDArray v =
          net.backward(pass, classDirection(probs, sqrtProbs, c))
              .perExample(arch)
              .castTo(DataType.DOUBLE);
      addUpperGramMirrored(v, h, p, sliceElements);
    }
  }

  /**
   * h += V^T V for V (m x p) float64, in row slices so the temporary stays bounded for p ~ 20k.
   * Each slice only computes columns from its first row on (the upper triangle: half the flops) and
   * writes every value to both (i, j) and (j, i).
   */
  private static void addUpperGramMirrored(INDArray v, double[] h, int p, long sliceElements) {
    int sliceRows = (int) Math.max(1, Math.min(p, sliceElements / p));
    for (int r0 = 0; r0 < p; r0 += sliceRows) {
      int r1 = Math.min(p, r0 + sliceRows);
      int width = p - r0;
      INDArray left = v.get(NDArrayIndex.all(), NDArrayIndex.interval(r0, r1));
      INDArray right = v.get(NDArrayIndex.all(), NDArrayIndex.interval(r0, p));
      double[] s = contiguous(left.transpose().mmul(right));
      // Upper triangle, row by row: contiguous in both s and h.
      for (int i = r0; i < r1; i++) {
        int src = (i - r0) * width - r0;
        int dst = i * p;
        for (int j = i; j < p; j++) {
          h[dst + j] += s[src + j];
        }
      }
      // Mirror (j, i) for j > i, looping j outer so the writes into h stay contiguous.
      for (int j = r0 + 1; j < p; j++) {
        int dst = j * p;
        int iEnd = Math.min(r1, j);
        for (int i = r0; i < iEnd; i++) {
          h[dst + i] += s[(i - r0) * width + (j - r0)];
        }
      }
    }
  }

  /**
   * trace(sum_i J_i^T Lambda_i J_i) over the batch without forming any p x p matrix: with the same
   * per-class backward passes as {@link #accumulateHessian}, the trace is the summed squared norm
   * of every per-example gradient, and a dense layer's per-example gradient a delta^T (+ bias
   * delta) has squared norm (|a|^2 + 1) |delta|^2. What {@code attribute.relative_damping} needs
   * for CG.
   */
  public static double traceSum(Network net, INDArray x, int[] labels) {
    Architecture arch = net.architecture();
    checkBatch(x, labels);
    Network.ForwardPass pass = net.forward(x);
    INDArray probs = Losses.softmax(pass.logits());
    INDArray sqrtProbs = Transforms.sqrt(probs, true);
    double trace = 0;
    for (int c = 0; c < arch.classes(); c++) {
      BatchGradient g = net.backward(pass, classDirection(probs, sqrtProbs, c), false);
      for (int l = 0; l < arch.layers(); l++) {
        INDArray a = g.layerInputs()[l];
        INDArray d = g.outputGrads()[l];
        INDArray aNorm = a.mul(a).sum(1).addi(1.0);
        INDArray dNorm = d.mul(d).sum(1);
        trace += aNorm.muli(dNorm).sumNumber().doubleValue();
      }
    }
    return trace;
  }

  /**
   * Returns sum_i J_i^T Lambda_i J_i V (p x r) without forming any p x p matrix: per column v, a
   * forward-mode (R-operator) pass gives J_i v for every example at once, Lambda_i is applied
   * row-wise, and one ordinary backward pass sums J_i^T (Lambda_i J_i v) over the batch.
   *
   * @param v p x r (or a length-p vector, treated as p x 1), the network's data type
   */
  public static INDArray productSum(Network net, INDArray x, int[] labels, INDArray v) {
    Architecture arch = net.architecture();
    long p = arch.paramCount();
    INDArray vm = v.rank() == 1 ? v.reshape(v.length(), 1) : v;
    if (vm.rank() != 2 || vm.rows() != p) {
      throw new IllegalArgumentException(
          "V has shape " + Arrays.toString(v.shape()) + ", expected " + p + " x r");
    }
    if (vm.dataType() != net.dataType()) {
      throw new IllegalArgumentException(
          "V is " + vm.dataType() + " but the network is " + net.dataType());
    }
    checkBatch(x, labels);
    Network.ForwardPass pass = net.forward(x);
    INDArray probs = Losses.softmax(pass.logits());
    int r = (int) vm.columns();
    INDArray out = Nd4j.create(net.dataType(), p, r);
    for (int k = 0; k < r; k++) {
      INDArray jv = jacobianVectorProduct(net, pass, vm.getColumn(k).dup());
      // Lambda_i u = p_i * u - p_i (p_i . u), row by row.
      INDArray pu = probs.mul(jv);
      INDArray lambdaJv = pu.subi(probs.mulColumnVector(pu.sum(1).reshape(-1, 1)));
      out.getColumn(k).assign(net.backward(pass, lambdaJv).sum());
    }
    return out;
  }

  /**
   * J_i dir for every example (batch x classes): forward-mode differentiation of the logits along
   * the parameter direction dir, dZ_l = dA_l W_l + A_l dW_l + db_l and dA_{l+1} = sigma'(Z_l) *
   * dZ_l with dA_0 = 0 (the inputs do not depend on theta).
   */
  private static INDArray jacobianVectorProduct(
      Network net, Network.ForwardPass pass, INDArray dir) {
    Architecture arch = net.architecture();
    INDArray[] a = pass.layerInputs();
    INDArray dA = null;
    for (int l = 0; l < arch.layers(); l++) {
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      INDArray dW = dir.get(NDArrayIndex.interval(wOff, bOff)).reshape('c', in, out);
      INDArray db = dir.get(NDArrayIndex.interval(bOff, bOff + out)).reshape('c', 1, out);
      INDArray dZ = a[l].mmul(dW).addiRowVector(db);
      if (dA != null) {
        dZ.addi(dA.mmul(net.weight(l)));
      }
      if (l == arch.layers() - 1) {
        return dZ;
      }
      dA = dZ.muli(net.activationDerivative(a[l + 1]));
    }
    throw new AssertionError("an architecture has at least one layer");
  }

  /**
   * dLogits = sqrt(p_c)(e_c - p), row by row: class c's term of Lambda = sum_c p_c (e_c - p)(e_c -
   * p)^T.
   */
  private static INDArray classDirection(INDArray probs, INDArray sqrtProbs, int c) {
    INDArray dLogits = probs.neg();
    dLogits.get(NDArrayIndex.all(), NDArrayIndex.point(c)).addi(1.0);
    return dLogits.muliColumnVector(
        sqrtProbs.get(NDArrayIndex.all(), NDArrayIndex.point(c)).reshape(-1, 1));
  }

  private static void checkBatch(INDArray x, int[] labels) {
    if (x.rows() != labels.length) {
      throw new IllegalArgumentException(x.rows() + " rows but " + labels.length + " labels");
    }
  }

  /** The values of a matrix in row-major order, in a fresh array. */
  static double[] contiguous(INDArray m) {
    return m.dup('c').data().asDouble();
  }
}
