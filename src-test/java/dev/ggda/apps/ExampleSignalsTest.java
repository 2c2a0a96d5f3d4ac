package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-example signals against one float64 forward and backward pass per example and checkpoint:
 * checkpoint loss is the mean of the checkpoints' losses, checkpoint self-influence the sum of
 * learning rate x squared gradient norm, loss and margin those of the last checkpoint.
 */
class ExampleSignalsTest {
  @Test
  void signalsMatchOnePassPerExampleAndCheckpoint() {
    SparkSession spark = SparkTestSession.get();
    Architecture arch = new Architecture(4, new int[] {5}, 3, ActivationKind.TANH);
    SplittableRandom r = new SplittableRandom(3);
    double[] rates = {0.3, 0.2, 0.05};
    List<Checkpoint> cps = new ArrayList<>();
    for (int t = 0; t < rates.length; t++) {
      float[] p = new float[(int) arch.paramCount()];
      for (int i = 0; i < p.length; i++) {
        p[i] = (float) (r.nextGaussian() * 0.7);
      }
      cps.add(new Checkpoint(0, t, 10L * t, t, rates[t], p));
    }
    TrainedModel model = new TrainedModel(arch, 0.0, List.of(cps));
    List<Row> rows = new ArrayList<>();
    float[][] x = new float[23][4];
    int[] y = new int[23];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < 4; j++) {
        x[i][j] = (float) r.nextGaussian();
      }
      y[i] = r.nextInt(3);
      rows.add(RowFactory.create(100L + i, y[i], x[i]));
    }
    var examples = spark.createDataFrame(rows, Columns.schema(false)).repartition(3);
    List<Row> got = ExampleSignals.compute(spark, examples, model).collectAsList();
    assertEquals(x.length, got.size());
    for (Row g : got) {
      int i = (int) (g.getLong(0) - 100);
      double meanLoss = 0;
      double self = 0;
      double lastLoss = 0;
      double lastMargin = 0;
      INDArray xi = Nd4j.createFromArray(new float[][] {x[i]}).castTo(DataType.DOUBLE);
      for (int t = 0; t < rates.length; t++) {
        float[] pf = cps.get(t).params();
        double[] pd = new double[pf.length];
        for (int k = 0; k < pd.length; k++) {
          pd[k] = pf[k];
        }
        Network net = Network.fromDoubles(arch, pd);
        Network.LossGradient lg = net.lossGradient(xi, new int[] {y[i]});
        INDArray grad = lg.gradient().sum();
        meanLoss += lg.lossSum() / rates.length;
        self += rates[t] * grad.mul(grad).sumNumber().doubleValue();
        double[] z = net.logits(xi).toDoubleVector();
        lastLoss = lg.lossSum();
        double others = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (int c = 0; c < z.length; c++) {
          if (c != y[i]) {
            others = Math.max(others, z[c]);
          }
        }
        for (int c = 0; c < z.length; c++) {
          if (c != y[i]) {
            sum += Math.exp(z[c] - others);
          }
        }
        lastMargin = z[y[i]] - (others + Math.log(sum));
      }
      assertEquals(y[i], g.getInt(1));
      assertEquals(lastLoss, g.getDouble(2), 1e-4 * Math.max(1, lastLoss), "loss " + i);
      assertEquals(lastMargin, g.getDouble(3), 1e-4 * Math.max(1, Math.abs(lastMargin)));
      assertEquals(meanLoss, g.getDouble(4), 1e-4 * Math.max(1, meanLoss), "checkpoint loss");
      assertEquals(self, g.getDouble(5), 1e-4 * Math.max(1, self), "self-influence " + i);
    }
  }

  @Test
  void suspiciousFirstPutsHighLossAndLowMarginFirstAndNaNLast() {
    double[] v = {0.5, Double.NaN, 2.0, -1.0, 2.0};
    assertEquals(
        List.of(2, 4, 0, 3, 1),
        toList(PruneBaselines.suspiciousFirst(v, dev.ggda.config.ExampleSignal.LOSS)));
    assertEquals(
        List.of(3, 0, 2, 4, 1),
        toList(PruneBaselines.suspiciousFirst(v, dev.ggda.config.ExampleSignal.MARGIN)));
  }

  private static List<Integer> toList(int[] a) {
    List<Integer> l = new ArrayList<>();
    for (int v : a) {
      l.add(v);
    }
    return l;
  }
}
