package dev.ggda.grouping;

import dev.ggda.config.ProjectionKind;
import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.math.Projection;
import dev.ggda.math.Seeds;
import dev.ggda.spark.ExampleBatch;
import java.util.Iterator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-example clustering features from the final model, one batched forward pass per batch of rows
 * (example_id, label, features) → (example_id, vec):
 *
 * <ul>
 *   <li>representation: the penultimate activation a_{L-1} (the input itself for logistic
 *       regression);
 *   <li>gradient: the last layer's weight gradient a_{L-1} ⊗ d_L (d_L = softmax - onehot) in the
 *       factored form (P_in^T a_{L-1}) ⊗ d_L, P_in a seeded Rademacher projection to {@link
 *       #GRADIENT_INPUT_DIM} dims; when a_{L-1} is no wider than that it is used unprojected
 *       (exact, and no wider). The per-example outer products are one broadcast multiply per batch.
 * </ul>
 */
final class ModelFeatures implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  /** k_in: enough to separate gradient directions, small enough that k_in x classes stays cheap. */
  static final int GRADIENT_INPUT_DIM = 32;

  static final String VEC = "vec";
  static final StructType SCHEMA =
      new StructType()
          .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
          .add(VEC, SQLDataTypes.VectorType(), false);

  /** Keeps P_in independent of every other projection drawn from the same user seed. */
  private static final long PROJECTION_SALT = 0x6A7AD1E7L;

  private final Broadcast<ModelSpec> model;
  private final boolean gradient;
  private final long seed;

  /**
   * @param gradient gradient features; otherwise representations
   * @param seed the group seed (P_in is derived from it)
   */
  ModelFeatures(Broadcast<ModelSpec> model, boolean gradient, long seed) {
    this.model = model;
    this.gradient = gradient;
    this.seed = seed;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    Network net = model.value().network();
    Architecture arch = net.architecture();
    // P_in regenerated once per task from its key: never shipped.
    INDArray pin = gradient ? matrix(inputProjection(seed, penultimateWidth(arch))) : null;
    return ExampleBatch.map(
        rows,
        arch.inputDim(),
        b -> {
          INDArray x = b.features();
          INDArray f =
              gradient ? gradientFeatures(net, pin, x, b.labels()) : representation(net, x);
          return toRows(b.ids, f);
        });
  }

  /** Width of a_{L-1}, the input of the last layer. */
  static int penultimateWidth(Architecture arch) {
    return arch.layerIn(arch.layers() - 1);
  }

  /** P_in for a penultimate width p, or null when p is small enough to use a_{L-1} as it is. */
  static Projection inputProjection(long seed, int p) {
    if (p <= GRADIENT_INPUT_DIM) {
      return null;
    }
    return new Projection(
        ProjectionKind.RADEMACHER, p, GRADIENT_INPUT_DIM, Seeds.mix(seed, PROJECTION_SALT), 0, 0);
  }

  /** Width of the gradient feature for a model. */
  static int gradientWidth(Architecture arch) {
    return Math.min(penultimateWidth(arch), GRADIENT_INPUT_DIM) * arch.classes();
  }

  /** a_{L-1} for a batch (batch x p). */
  static INDArray representation(Network net, INDArray x) {
    INDArray[] inputs = net.forward(x).layerInputs();
    return inputs[inputs.length - 1];
  }

  /**
   * Row i is vec((P_in^T a_i) ⊗ d_i), index j * classes + c, for the whole batch at once.
   *
   * @param pin P_in (p x k_in), or null for a_i itself
   */
  static INDArray gradientFeatures(Network net, INDArray pin, INDArray x, int[] labels) {
    Network.ForwardPass pass = net.forward(x);
    INDArray[] inputs = pass.layerInputs();
    INDArray a = inputs[inputs.length - 1];
    INDArray d = Losses.crossEntropyGradient(pass.logits(), labels);
    INDArray pa = pin == null ? a : a.mmul(pin);
    long n = pa.rows();
    long k = pa.columns();
    long c = d.columns();
    INDArray left = pa.dup('c').reshape('c', n, k, 1).broadcast(n, k, c);
    INDArray right = d.dup('c').reshape('c', n, 1, c).broadcast(n, k, c);
    return left.mul(right).reshape('c', n, k * c);
  }

  /** P materialised (p x k) from its blocks; the same matrix {@link Projection#project} applies. */
  static INDArray matrix(Projection p) {
    if (p == null) {
      return null;
    }
    INDArray[] blocks = new INDArray[p.blocks()];
    for (int b = 0; b < blocks.length; b++) {
      blocks[b] = p.block(b);
    }
    return blocks.length == 1 ? blocks[0] : Nd4j.concat(0, blocks);
  }

  private static Row[] toRows(long[] ids, INDArray features) {
    // A fresh c-order copy holds exactly rows x width values (toFloatMatrix refuses 1-row batches).
    int rows = (int) features.rows();
    int width = (int) features.columns();
    float[] flat = features.castTo(DataType.FLOAT).dup('c').data().asFloat();
    Row[] out = new Row[rows];
    for (int i = 0; i < rows; i++) {
      double[] v = new double[width];
      for (int j = 0; j < width; j++) {
        v[j] = flat[i * width + j];
      }
      out[i] = RowFactory.create(ids[i], Vectors.dense(v));
    }
    return out;
  }
}
