package dev.ggda.spark;

import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
  public static ModelMetrics evaluate(Dataset<Row> examples, Architecture arch, float[] params, int batchSize) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[]> bParams = jsc.broadcast(params);
    JavaRDD<Row> rows = examples.select("label", "features").javaRDD();
    return rows.mapPartitions(
            (Iterator<Row> it) -> {
              Network net = Network.fromFloats(arch, bParams.value());
              ModelMetrics acc = new ModelMetrics(0, 0, 0);
              List<Row> batch = new ArrayList<>(batchSize);
              while (it.hasNext()) {
                batch.add(it.next());
                if (batch.size() == batchSize || !it.hasNext()) {
                  acc = acc.plus(evaluateBatch(net, arch.inputDim(), batch));
                  batch.clear();
                }
              }
              return List.of(acc).iterator();
            })
        .reduce(ModelMetrics::plus);
  }

  private static ModelMetrics evaluateBatch(Network net, int dim, List<Row> batch) {
    int n = batch.size();
    float[] x = new float[n * dim];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      Row r = batch.get(i);
      y[i] = r.getInt(0);
      RowArrays.copyFloats(r, 1, x, i * dim, dim);
    }
    INDArray logits = net.logits(Nd4j.create(x, new long[] {n, dim}, 'c'));
    int[] predicted = logits.argMax(1).toIntVector();
    long correct = 0;
    for (int i = 0; i < n; i++) {
      if (predicted[i] == y[i]) {
        correct++;
      }
    }
    double loss = Losses.crossEntropy(logits, y).sumNumber().doubleValue();
    return new ModelMetrics(n, correct, loss);
  }
}
