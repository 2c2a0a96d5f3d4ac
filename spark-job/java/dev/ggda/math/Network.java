package dev.ggda.math;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A dense classifier over one flat parameter vector (layout in {@link Architecture}). The per-layer
 * weight and bias arrays are views into that vector, so an in-place update of {@link #params()} is
 * an update of the model.
 *
 * <p>Forward and backward are batched: one pass over a batch yields the gradient of the batch's
 * summed loss and, per layer, the layer inputs A_l and output-gradients D_l from which every
 * per-example gradient follows exactly (dW_l[i] = A_l[i]^T D_l[i], db_l[i] = D_l[i]). Not
 * thread-safe: use one instance per thread.
 */
public final class Network {
  private final Architecture arch;
  private final INDArray params;
  private final INDArray[] weights;
  private final INDArray[] biases;

  /** Wraps {@code flat} (a vector of {@link Architecture#paramCount()} values) without copying. */
  public Network(Architecture arch, INDArray flat) {
    if (flat.length() != arch.paramCount()) {
      throw new IllegalArgumentException(
          "parameter vector has "
              + flat.length()
              + " values, architecture "
              + arch
              + " needs "
              + arch.paramCount());
    }
    this.arch = arch;
    this.params = flat.isVector() && flat.rank() == 1 ? flat : flat.reshape(flat.length());
    int layers = arch.layers();
    this.weights = new INDArray[layers];
    this.biases = new INDArray[layers];
    for (int l = 0; l < layers; l++) {
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      weights[l] = params.get(NDArrayIndex.interval(wOff, bOff)).reshape('c', in, out);
      biases[l] = params.get(NDArrayIndex.interval(bOff, bOff + out)).reshape('c', 1, out);
    }
  }

  public static Network fromFloats(Architecture arch, float[] flat) {
    return new Network(arch, Nd4j.createFromArray(flat.clone()));
  }

  public static Network fromDoubles(Architecture arch, double[] flat) {
    return new Network(arch, Nd4j.createFromArray(flat.clone()));
  }

  /**
   * Seeded initialisation: weights uniform in +-sqrt(6 / (in + out)) (Glorot), biases zero. Drawn
   * with a SplittableRandom so the result is identical on every JVM and thread.
   */
  public static Network initialise(Architecture arch, long seed, DataType dtype) {
    double[] flat = new double[Math.toIntExact(arch.paramCount())];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      double limit = Math.sqrt(6.0 / (in + out));
      int off = (int) arch.weightOffset(l);
      for (int i = 0; i < in * out; i++) {
        flat[off + i] = (2 * rnd.nextDouble() - 1) * limit;
      }
    }
    return new Network(arch, Nd4j.createFromArray(flat).castTo(dtype));
  }

  public Architecture architecture() {
    return arch;
  }

  /** The flat parameter vector (rank 1); in-place changes change the model. */
  public INDArray params() {
    return params;
  }

  public DataType dataType() {
    return params.dataType();
  }

  public INDArray weight(int layer) {
    return weights[layer];
  }

  public INDArray bias(int layer) {
    return biases[layer];
  }

  public float[] paramsAsFloats() {
    return params.castTo(DataType.FLOAT).toFloatVector();
  }

  public double[] paramsAsDoubles() {
    return params.castTo(DataType.DOUBLE).toDoubleVector();
  }

  /** A deep copy (own parameter buffer). */
  public Network copy() {
    return new Network(arch, params.dup());
  }

  /**
   * Forward pass over a batch (rows are examples), keeping what backward needs.
   *
   * @param x batch x inputDim, same data type as the parameters
   */
  public ForwardPass forward(INDArray x) {
    int layers = arch.layers();
    INDArray[] inputs = new INDArray[layers];
    INDArray a = x.dataType() == params.dataType() ? x : x.castTo(params.dataType());
    for (int l = 0; l < layers; l++) {
      inputs[l] = a;
      INDArray z = a.mmul(weights[l]).addiRowVector(biases[l]);
      a = l == layers - 1 ? z : activate(z);
    }
    return new ForwardPass(inputs, a);
  }

  /** Logits only (batch x classes). */
  public INDArray logits(INDArray x) {
    return forward(x).logits();
  }

  /**
   * Backward pass for an arbitrary output-gradient dOut = d(sum of per-example outputs)/d logits.
   * Returns the gradient of the summed output and the per-layer A_l, D_l.
   */
  public BatchGradient backward(ForwardPass pass, INDArray dLogits) {
    return backward(pass, dLogits, true);
  }

  /**
   * @param withSum also assemble the summed gradient; featurize needs only A_l and D_l (its group
   *     sums come from them), so it skips this p-sized GEMM per layer
   */
  public BatchGradient backward(ForwardPass pass, INDArray dLogits, boolean withSum) {
    int layers = arch.layers();
    INDArray grad = withSum ? Nd4j.create(params.dataType(), params.length()) : null;
    INDArray[] outputGrads = new INDArray[layers];
    INDArray d = dLogits;
    for (int l = layers - 1; l >= 0; l--) {
      outputGrads[l] = d;
      INDArray a = pass.layerInputs()[l];
      long wOff = arch.weightOffset(l);
      long bOff = arch.biasOffset(l);
      int out = arch.layerOut(l);
      if (withSum) {
        grad.get(NDArrayIndex.interval(wOff, bOff)).assign(a.transpose().mmul(d).reshape(-1));
        grad.get(NDArrayIndex.interval(bOff, bOff + out)).assign(d.sum(0));
      }
      if (l > 0) {
        // a is the activation output of layer l-1: its derivative is a function of a itself.
        d = d.mmul(weights[l].transpose()).muli(activationDerivative(a));
      }
    }
    return new BatchGradient(grad, pass.layerInputs(), outputGrads);
  }

  /** Forward + backward of the summed softmax cross-entropy loss of a batch. */
  public LossGradient lossGradient(INDArray x, int[] labels) {
    ForwardPass pass = forward(x);
    INDArray logits = pass.logits();
    double loss = Losses.crossEntropy(logits, labels).sumNumber().doubleValue();
    BatchGradient g = backward(pass, Losses.crossEntropyGradient(logits, labels));
    return new LossGradient(loss, g);
  }

  private INDArray activate(INDArray z) {
    return switch (arch.activation()) {
      case RELU -> Transforms.relu(z, false);
      case TANH -> Transforms.tanh(z, false);
      case SIGMOID -> Transforms.sigmoid(z, false);
    };
  }

  /**
   * sigma'(z) expressed through the activation output a = sigma(z) (all three kinds allow it);
   * package-private so the Gauss-Newton R-operator can reuse it.
   */
  INDArray activationDerivative(INDArray a) {
    return switch (arch.activation()) {
      case RELU -> a.gt(0).castTo(a.dataType());
      case TANH -> a.mul(a).rsubi(1.0);
      case SIGMOID -> a.mul(a.rsub(1.0));
    };
  }

  /** Layer inputs A_0 (= x) .. A_{L-1}, and the logits. */
  public record ForwardPass(INDArray[] layerInputs, INDArray logits) {}

  /** Summed cross-entropy loss of a batch and its gradient. */
  public record LossGradient(double lossSum, BatchGradient gradient) {}
}
