package dev.ggda.grouping;

import dev.ggda.config.ActivationKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.model.TrainedModel;
import java.io.Serializable;

/**
 * The final model (member 0) as a plain class of arrays and primitives, so it can be broadcast:
 * Spark's Kryo 4 handles neither records ({@link Architecture}) nor INDArray. Executors rebuild the
 * {@link Network} from it, one per task.
 */
final class ModelSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private int inputDim;
  private int[] hidden;
  private int classes;
  private int activation;
  private float[] params;

  private ModelSpec() {}

  static ModelSpec of(TrainedModel model) {
    Architecture arch = model.architecture();
    ModelSpec s = new ModelSpec();
    s.inputDim = arch.inputDim();
    s.hidden = arch.hidden();
    s.classes = arch.classes();
    s.activation = arch.activation().ordinal();
    s.params = model.finalCheckpoint(0).params().clone();
    return s;
  }

  Architecture architecture() {
    return new Architecture(inputDim, hidden, classes, ActivationKind.values()[activation]);
  }

  /** SHA-256 of the architecture and every parameter: equal for the same model, bit for bit. */
  String fingerprint() {
    try {
      java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
      d.update(architecture().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * params.length);
      b.asFloatBuffer().put(params);
      d.update(b.array());
      return java.util.HexFormat.of().formatHex(d.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  Network network() {
    return Network.fromFloats(architecture(), params);
  }
}
