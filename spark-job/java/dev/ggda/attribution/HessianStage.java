package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.GaussNewton;
import dev.ggda.math.Network;
import dev.ggda.spark.ExampleBatch;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The dense Gauss-Newton Hessian sum_i J_i^T Lambda_i J_i over the training data (IF, hessian
 * exact): batches on the executors, a p x p float64 sum per partition, tree-reduced to the driver.
 * Only for p up to ~20k parameters (the caller checks).
 */
final class HessianStage {
  private HessianStage() {}

  static double[] exact(Dataset<Row> examples, Architecture arch, float[] params, int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[]> bParams = jsc.broadcast(params);
    int p = Math.toIntExact(arch.paramCount());
    int dim = arch.inputDim();
    double[] h = examples.select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES).javaRDD()
        .mapPartitions((Iterator<Row> it) -> {
          Network net = Network.fromFloats(arch, bParams.value());
          Network dnet = new Network(arch, net.params().castTo(DataType.DOUBLE));
          double[] acc = new double[p * p];
          ExampleBatch batch = new ExampleBatch(dim);
          while (batch.fill(it)) {
            GaussNewton.accumulateHessian(dnet, batch.features(DataType.DOUBLE), batch.labels(), acc);
          }
          return List.of(acc).iterator();
        })
        .treeAggregate(new double[p * p], HessianStage::add, HessianStage::add);
    bParams.destroy();
    return h;
  }

  private static double[] add(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }
}
