package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.GaussNewton;
import dev.ggda.math.Network;
import dev.ggda.math.SoftmaxHessianBlocks;
import dev.ggda.spark.ExampleBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.buffer.DataType;
import scala.Tuple2;

/**
 * The dense Gauss-Newton Hessian sum_i J_i^T Lambda_i J_i over the training data (IF, hessian
 * exact): batches on the executors, a p x p float64 sum per partition, tree-reduced to the driver.
 * Only for p up to ~20k parameters (the caller checks).
 */
final class HessianStage {
  /** Doubles per shipped chunk of the Hessian (32 MiB). */
  static final int CHUNK = 4 << 20;

  private HessianStage() {}

  static double[] exact(Dataset<Row> examples, Architecture arch, float[] params, int partitions) {
    return exactChunked(examples, arch, params, CHUNK);
  }

  /** As above with an explicit chunk size (tests exercise the many-chunk path on small models). */
  static double[] exactChunked(
      Dataset<Row> examples, Architecture arch, float[] params, int chunk) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[]> bParams = jsc.broadcast(params);
    int p = Math.toIntExact(arch.paramCount());
    int dim = arch.inputDim();
    // Softmax regression sums its class-pair blocks (9x fewer flops on Fashion-MNIST, and 55% of
    // the p x p values to ship); other models sum the dense matrix.
    boolean blocks = SoftmaxHessianBlocks.applies(arch);
    long total = blocks ? SoftmaxHessianBlocks.size(dim, arch.classes()) : (long) p * p;
    int chunks = (int) ((total + chunk - 1) / chunk);
    // The p x p sum travels in chunks of at most CHUNK doubles, one per reduce partition: Kryo's
    // buffer (spark.kryoserializer.buffer.max, 64 MiB by default) holds one task result at a time.
    List<Tuple2<Integer, double[]>> parts =
        examples
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .javaRDD()
            .mapPartitionsToPair(
                (Iterator<Row> it) -> {
                  Network net = Network.fromFloats(arch, bParams.value());
                  Network dnet = new Network(arch, net.params().castTo(DataType.DOUBLE));
                  SoftmaxHessianBlocks sums =
                      blocks ? new SoftmaxHessianBlocks(dim, arch.classes()) : null;
                  double[] acc = blocks ? sums.values() : new double[p * p];
                  ExampleBatch batch = new ExampleBatch(dim);
                  while (batch.fill(it)) {
                    if (blocks) {
                      sums.add(dnet, batch.features(DataType.DOUBLE), batch.labels());
                    } else {
                      GaussNewton.accumulateHessian(
                          dnet, batch.features(DataType.DOUBLE), batch.labels(), acc);
                    }
                  }
                  List<Tuple2<Integer, double[]>> out = new ArrayList<>(chunks);
                  for (int c = 0; c < chunks; c++) {
                    int from = c * chunk;
                    out.add(
                        new Tuple2<>(
                            c,
                            Arrays.copyOfRange(
                                acc, from, (int) Math.min(total, (long) from + chunk))));
                  }
                  return out.iterator();
                })
            .reduceByKey(new org.apache.spark.HashPartitioner(chunks), HessianStage::add)
            .collect();
    double[] h = new double[Math.toIntExact(total)];
    for (Tuple2<Integer, double[]> part : parts) {
      System.arraycopy(part._2(), 0, h, part._1() * chunk, part._2().length);
    }
    bParams.destroy();
    return blocks ? SoftmaxHessianBlocks.expand(h, dim, arch.classes()) : h;
  }

  /** trace(sum_i J_i^T Lambda_i J_i) over the training data: one pass, a double per partition. */
  static double traceSum(Dataset<Row> examples, Architecture arch, float[] params) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<float[]> bParams = jsc.broadcast(params);
    int dim = arch.inputDim();
    double trace =
        examples
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .javaRDD()
            .mapPartitions(
                (Iterator<Row> it) -> {
                  Network dnet =
                      new Network(
                          arch,
                          Network.fromFloats(arch, bParams.value())
                              .params()
                              .castTo(DataType.DOUBLE));
                  double sum = 0;
                  ExampleBatch batch = new ExampleBatch(dim);
                  while (batch.fill(it)) {
                    sum +=
                        GaussNewton.traceSum(dnet, batch.features(DataType.DOUBLE), batch.labels());
                  }
                  return List.of(sum).iterator();
                })
            .fold(0.0, Double::sum);
    bParams.destroy();
    return trace;
  }

  private static double[] add(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }
}
