package dev.ggda.spark;

import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Accuracy and mean loss of a model over a dataset, computed batch-wise on the executors. */
public final class ModelMetrics implements Serializable {
  public final long count;
  public final long correct;
  public final double lossSum;

  public ModelMetrics(long count, long correct, double lossSum) {
    this.count = count;
    this.correct = correct;
    this.lossSum = lossSum;
  }

  public double accuracy() {
    return count == 0 ? Double.NaN : (double) correct / count;
  }

  public double meanLoss() {
    return count == 0 ? Double.NaN : lossSum / count;
  }

  ModelMetrics plus(ModelMetrics o) {
    return new ModelMetrics(count + o.count, correct + o.correct, lossSum + o.lossSum);
  }

  /** Evaluates {@code params} on a canonical examples Dataset (example_id, label, features). */
  public static ModelMetrics evaluate(Dataset<Row> examples, Architecture arch, float[] params) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[]> bParams = jsc.broadcast(params);
    JavaRDD<Row> rows =
        examples.select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES).javaRDD();
    return rows.mapPartitions(
            (Iterator<Row> it) -> {
              Network net = Network.fromFloats(arch, bParams.value());
              ModelMetrics acc = new ModelMetrics(0, 0, 0);
              ExampleBatch batch = new ExampleBatch(arch.inputDim());
              while (batch.fill(it)) {
                acc = acc.plus(evaluateBatch(net, batch));
              }
              return List.of(acc).iterator();
            })
        .reduce(ModelMetrics::plus);
  }

  private static ModelMetrics evaluateBatch(Network net, ExampleBatch batch) {
    int[] y = batch.labels();
    INDArray logits = net.logits(batch.features());
    int[] predicted = logits.argMax(1).toIntVector();
    long correct = 0;
    for (int i = 0; i < y.length; i++) {
      if (predicted[i] == y[i]) {
        correct++;
      }
    }
    double loss = Losses.crossEntropy(logits, y).sumNumber().doubleValue();
    return new ModelMetrics(y.length, correct, loss);
  }
}
