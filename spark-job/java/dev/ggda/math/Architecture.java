package dev.ggda.math;

import dev.ggda.config.ActivationKind;
import java.util.Arrays;

/**
 * A dense feed-forward classifier: inputDim -> hidden[0] -> ... -> classes, with {@code activation}
 * after every hidden layer and softmax cross-entropy on the logits. No hidden layer is multinomial
 * logistic regression.
 *
 * <p>Flat parameter layout (the order of {@link Network#params()}, of saved arrays and of every
 * projected gradient): for each layer l = 0..L-1, W_l as an (in_l x out_l) row-major block, then
 * b_l (out_l values).
 */
public record Architecture(int inputDim, int[] hidden, int classes, ActivationKind activation)
    implements java.io.Serializable {

  public Architecture {
    hidden = hidden.clone();
  }

  public static Architecture logistic(int inputDim, int classes) {
    return new Architecture(inputDim, new int[0], classes, ActivationKind.RELU);
  }

  /** Number of dense layers (hidden layers + the output layer). */
  public int layers() {
    return hidden.length + 1;
  }

  /** in_l: input width of layer l. */
  public int layerIn(int l) {
    return l == 0 ? inputDim : hidden[l - 1];
  }

  /** out_l: output width of layer l. */
  public int layerOut(int l) {
    return l == hidden.length ? classes : hidden[l];
  }

  /** Offset of W_l in the flat parameter vector. */
  public long weightOffset(int l) {
    long off = 0;
    for (int i = 0; i < l; i++) {
      off += (long) layerIn(i) * layerOut(i) + layerOut(i);
    }
    return off;
  }

  /** Offset of b_l in the flat parameter vector. */
  public long biasOffset(int l) {
    return weightOffset(l) + (long) layerIn(l) * layerOut(l);
  }

  public long paramCount() {
    return weightOffset(layers());
  }

  @Override
  public int[] hidden() {
    return hidden.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Architecture a
        && a.inputDim == inputDim
        && Arrays.equals(a.hidden, hidden)
        && a.classes == classes
        && a.activation == activation;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * inputDim + Arrays.hashCode(hidden)) + classes) + activation.hashCode();
  }

  @Override
  public String toString() {
    return "Architecture["
        + inputDim
        + "-"
        + Arrays.toString(hidden)
        + "-"
        + classes
        + ", "
        + activation
        + "]";
  }
}
