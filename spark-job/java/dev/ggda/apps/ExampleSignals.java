package dev.ggda.apps;

import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.spark.ExampleBatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The cheap per-example signals of a trained model, one forward pass per batch on the executors:
 * cross-entropy loss and TRAK's margin (logit of the label minus the log-sum-exp of the others).
 */
public final class ExampleSignals {
  public static final StructType SCHEMA =
      new StructType()
          .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
          .add(Columns.LABEL, DataTypes.IntegerType, false)
          .add("loss", DataTypes.DoubleType, false)
          .add("margin", DataTypes.DoubleType, false);

  private ExampleSignals() {}

  /** example_id, label, loss, margin for every row of a canonical examples table. */
  public static Dataset<Row> compute(
      SparkSession spark, Dataset<Row> examples, Architecture arch, float[] params) {
    Broadcast<float[]> bParams =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(params);
    JavaRDD<Row> rows =
        examples
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .javaRDD()
            .mapPartitions(
                (Iterator<Row> it) -> {
                  Network net = Network.fromFloats(arch, bParams.value());
                  ExampleBatch batch = new ExampleBatch(arch.inputDim());
                  List<Row> out = new ArrayList<>();
                  while (batch.fill(it)) {
                    int[] y = batch.labels();
                    INDArray logits = net.logits(batch.features());
                    double[] loss = Losses.crossEntropy(logits, y).toDoubleVector();
                    double[] margin = Losses.margin(logits, y).toDoubleVector();
                    for (int i = 0; i < y.length; i++) {
                      out.add(RowFactory.create(batch.ids[i], y[i], loss[i], margin[i]));
                    }
                  }
                  return out.iterator();
                });
    return spark.createDataFrame(rows, SCHEMA);
  }
}
