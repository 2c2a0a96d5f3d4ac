package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;

import dev.ggda.config.ExampleSignal;
import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.ExampleGradientNorms;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.spark.ExampleBatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The cheap per-example signals of a trained model, batched forward (and backward) passes on the
 * executors: the final model's cross-entropy loss and TRAK margin (logit of the label minus the
 * log-sum-exp of the others), the loss averaged over member 0's recorded checkpoints, and TracIn's
 * self-influence over them, sum_t eta_t |grad l_i(theta_t)|^2 (from squared gradient norms, no
 * per-example gradient is formed).
 */
public final class ExampleSignals {
  public static final StructType SCHEMA =
      new StructType()
          .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
          .add(Columns.LABEL, DataTypes.IntegerType, false)
          .add(Columns.LOSS, DataTypes.DoubleType, false)
          .add(Columns.MARGIN, DataTypes.DoubleType, false)
          .add(Columns.CHECKPOINT_LOSS, DataTypes.DoubleType, false)
          .add(Columns.CHECKPOINT_SELF_INFLUENCE, DataTypes.DoubleType, false);

  private ExampleSignals() {}

  /** The signals table's column of a signal (refit_loss: added by {@link RefitLoss}). */
  public static String column(ExampleSignal s) {
    return switch (s) {
      case LOSS -> Columns.LOSS;
      case MARGIN -> Columns.MARGIN;
      case CHECKPOINT_LOSS -> Columns.CHECKPOINT_LOSS;
      case CHECKPOINT_SELF_INFLUENCE -> Columns.CHECKPOINT_SELF_INFLUENCE;
      case REFIT_LOSS -> Columns.REFIT_LOSS;
    };
  }

  /** The sort key that puts the most suspicious examples first (NaN last). */
  public static Column suspiciousFirst(ExampleSignal s) {
    return s == ExampleSignal.MARGIN
        ? col(Columns.MARGIN).asc()
        : Ranking.nanLast(column(s)).desc();
  }

  /** Member 0's checkpoints, oldest first; the last is the final model. */
  static List<Checkpoint> checkpoints(TrainedModel model) {
    return model.members().get(0);
  }

  /** The signals for every row of a canonical examples table. */
  public static Dataset<Row> compute(
      SparkSession spark, Dataset<Row> examples, TrainedModel model) {
    List<Checkpoint> cps = checkpoints(model);
    float[][] params = new float[cps.size()][];
    double[] rates = new double[cps.size()];
    for (int t = 0; t < params.length; t++) {
      params[t] = cps.get(t).params();
      rates[t] = cps.get(t).learningRate();
    }
    Architecture arch = model.architecture();
    Broadcast<float[][]> bParams =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(params);
    JavaRDD<Row> rows =
        examples
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .javaRDD()
            .mapPartitions(
                (Iterator<Row> it) -> {
                  Network[] nets = new Network[rates.length];
                  for (int t = 0; t < nets.length; t++) {
                    nets[t] = Network.fromFloats(arch, bParams.value()[t]);
                  }
                  ExampleBatch batch = new ExampleBatch(arch.inputDim());
                  List<Row> out = new ArrayList<>();
                  while (batch.fill(it)) {
                    addBatch(nets, rates, batch, out);
                  }
                  return out.iterator();
                });
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** One forward and one backward pass per checkpoint; loss and margin come from the same pass. */
  private static void addBatch(Network[] nets, double[] rates, ExampleBatch batch, List<Row> out) {
    int[] y = batch.labels();
    INDArray x = batch.features();
    int last = nets.length - 1;
    double[] loss = null;
    double[] margin = null;
    double[] meanLoss = new double[y.length];
    double[] self = new double[y.length];
    for (int t = 0; t <= last; t++) {
      Network.ForwardPass pass = nets[t].forward(x);
      INDArray logits = pass.logits();
      double[] lt = Losses.crossEntropy(logits, y).toDoubleVector();
      double[] g2 =
          ExampleGradientNorms.squared(
              nets[t].backward(pass, Losses.crossEntropyGradient(logits, y), false));
      for (int i = 0; i < y.length; i++) {
        meanLoss[i] += lt[i] / nets.length;
        self[i] += rates[t] * g2[i];
      }
      if (t == last) {
        loss = lt;
        margin = Losses.margin(logits, y).toDoubleVector();
      }
    }
    for (int i = 0; i < y.length; i++) {
      out.add(RowFactory.create(batch.ids[i], y[i], loss[i], margin[i], meanLoss[i], self[i]));
    }
  }
}
