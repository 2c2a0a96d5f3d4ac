package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.ExampleGradientNorms;
import dev.ggda.math.Network;
import dev.ggda.spark.ExampleBatch;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The trace of TRAK's per-example kernel, sum_i |grad f_i|^2 per model slot, from one batched
 * forward and backward pass per example on the executors (squared norms, no per-example gradient,
 * no projection). Every projection here has E[P P^T] = I, so it is also the expected trace of the
 * projected kernel; the group kernel is filled up to it.
 */
final class KernelTrace {
  private KernelTrace() {}

  /** sum over the examples of |grad_theta f(x_i, y_i; theta_s)|^2, one value per slot. */
  static double[] exampleSums(Dataset<Row> examples, Architecture arch, float[][] slotParams) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[][]> bParams = jsc.broadcast(slotParams);
    int slots = slotParams.length;
    List<double[]> parts =
        examples
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .javaRDD()
            .mapPartitions(
                (Iterator<Row> it) -> List.of(partition(it, arch, bParams.value())).iterator())
            .collect();
    double[] sum = new double[slots];
    for (double[] part : parts) {
      for (int s = 0; s < slots; s++) {
        sum[s] += part[s];
      }
    }
    return sum;
  }

  private static double[] partition(Iterator<Row> it, Architecture arch, float[][] params) {
    Network[] nets = new Network[params.length];
    for (int s = 0; s < nets.length; s++) {
      nets[s] = Network.fromFloats(arch, params[s]);
    }
    double[] sum = new double[params.length];
    ExampleBatch batch = new ExampleBatch(arch.inputDim());
    while (batch.fill(it)) {
      for (int s = 0; s < nets.length; s++) {
        for (double v :
            ExampleGradientNorms.squaredMargin(nets[s], batch.features(), batch.labels())) {
          sum[s] += v;
        }
      }
    }
    return sum;
  }
}
