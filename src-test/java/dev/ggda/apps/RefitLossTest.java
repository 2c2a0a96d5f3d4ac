package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The refit signal against a brute force on the driver: the trainer sees exactly the rows left
 * after dropping round(fraction x n) of the highest float64 losses of the final model, and
 * refit_loss is each example's float64 loss under the model the trainer returned, whatever the
 * partitioning.
 */
class RefitLossTest {
  private static final Architecture ARCH =
      new Architecture(4, new int[] {5}, 3, ActivationKind.TANH);

  @Test
  void refitDropsTheHighestLossesAndScoresEveryExampleUnderTheNewModel() {
    SparkSession spark = SparkTestSession.get();
    SplittableRandom r = new SplittableRandom(11);
    int n = 41;
    float[][] x = new float[n][4];
    int[] y = new int[n];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 4; j++) {
        x[i][j] = (float) r.nextGaussian();
      }
      y[i] = r.nextInt(3);
      rows.add(RowFactory.create(500L + i, y[i], x[i]));
    }
    TrainedModel finalModel = model(r.nextLong());
    double fraction = 0.3;
    for (int parts : new int[] {1, 4}) {
      Dataset<Row> examples = spark.createDataFrame(rows, Columns.schema(false)).repartition(parts);
      LoadedData train = new LoadedData(examples, 4, 3, n);
      AtomicReference<long[]> seen = new AtomicReference<>();
      AtomicReference<TrainedModel> refit = new AtomicReference<>();
      Dataset<Row> signals = ExampleSignals.compute(spark, examples, finalModel);
      List<Row> got =
          RefitLoss.add(
                  spark,
                  train,
                  signals,
                  fraction,
                  data -> {
                    long[] ids = LocalData.collect(data).ids();
                    assertEquals(data.count(), ids.length, "the rows' count travels with them");
                    seen.set(ids);
                    refit.set(model(Arrays.stream(ids).sum()));
                    return refit.get();
                  })
              .select(Columns.EXAMPLE_ID, Columns.LOSS, Columns.REFIT_LOSS)
              .collectAsList();

      Integer[] order = new Integer[n];
      double[] loss = new double[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
        loss[i] = loss(finalModel, x[i], y[i]);
      }
      Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -loss[i]));
      int drop = (int) Math.round(fraction * n);
      long[] kept = new long[n - drop];
      for (int k = drop; k < n; k++) {
        kept[k - drop] = 500L + order[k];
      }
      Arrays.sort(kept);
      assertEquals(Arrays.toString(kept), Arrays.toString(seen.get()), "rows left for the refit");
      assertEquals(n, got.size());
      for (Row g : got) {
        int i = (int) (g.getLong(0) - 500);
        double want = loss(refit.get(), x[i], y[i]);
        assertEquals(loss[i], g.getDouble(1), 1e-4 * Math.max(1, loss[i]), "loss " + i);
        assertEquals(want, g.getDouble(2), 1e-4 * Math.max(1, want), "refit loss " + i);
      }
    }
  }

  private static TrainedModel model(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] p = new float[(int) ARCH.paramCount()];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (r.nextGaussian() * 0.8);
    }
    return new TrainedModel(ARCH, 0.0, List.of(List.of(new Checkpoint(0, 0, 10L, 0, 0.1, p))));
  }

  private static double loss(TrainedModel m, float[] x, int y) {
    float[] pf = m.finalCheckpoint(0).params();
    double[] pd = new double[pf.length];
    for (int k = 0; k < pd.length; k++) {
      pd[k] = pf[k];
    }
    INDArray xi = Nd4j.createFromArray(new float[][] {x}).castTo(DataType.DOUBLE);
    return Network.fromDoubles(ARCH, pd).lossGradient(xi, new int[] {y}).lossSum();
  }
}
