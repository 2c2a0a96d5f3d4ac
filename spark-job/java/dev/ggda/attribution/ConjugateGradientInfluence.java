package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.featurize.BlockFeatures;
import dev.ggda.math.Architecture;
import dev.ggda.math.ConjugateGradient;
import dev.ggda.math.GaussNewton;
import dev.ggda.math.Network;
import dev.ggda.spark.ExampleBatch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Influence functions with hessian: cg. (H + delta I) x = b is solved by conjugate gradients whose
 * operator is one distributed pass over the training data per iteration (Gauss-Newton-vector
 * products summed on the executors, all right-hand sides at once), on whichever side is smaller:
 * the targets (solve for every target gradient) or the groups (solve for every group gradient). So
 * the cost is passes over the data, not per-example work, and min(#targets, #groups) solves.
 */
final class ConjugateGradientInfluence {
  static final double TOLERANCE = 1e-8;
  static final int MAX_ITERATIONS = 500;

  private ConjugateGradientInfluence() {}

  /** The distributed operator v -> (1/n) sum_i J_i^T Lambda_i J_i v + (lambda + delta) v. */
  static ConjugateGradient.LinearOperator operator(
      Dataset<Row> examples,
      Architecture arch,
      float[] params,
      long n,
      double lambda,
      double delta) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    JavaRDD<Row> rows =
        examples.select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES).javaRDD();
    int p = Math.toIntExact(arch.paramCount());
    int dim = arch.inputDim();
    return columns -> {
      int r = columns.length;
      Broadcast<double[][]> bCols = jsc.broadcast(columns);
      double[] sum =
          rows.mapPartitions(
                  (Iterator<Row> it) -> {
                    Network net =
                        new Network(arch, Nd4j.createFromArray(params).castTo(DataType.DOUBLE));
                    double[][] cols = bCols.value();
                    double[] flat = new double[p * r];
                    for (int j = 0; j < r; j++) {
                      for (int i = 0; i < p; i++) {
                        flat[i * r + j] = cols[j][i];
                      }
                    }
                    INDArray v = Nd4j.create(flat, new long[] {p, r}, 'c');
                    INDArray acc = Nd4j.zeros(DataType.DOUBLE, p, r);
                    ExampleBatch batch = new ExampleBatch(dim);
                    while (batch.fill(it)) {
                      acc.addi(
                          GaussNewton.productSum(
                              net, batch.features(DataType.DOUBLE), batch.labels(), v));
                    }
                    return List.of(dev.ggda.math.Flat.doubles(acc)).iterator();
                  })
              .treeAggregate(
                  new double[p * r],
                  ConjugateGradientInfluence::add,
                  ConjugateGradientInfluence::add);
      bCols.destroy();
      double[][] out = new double[r][p];
      for (int j = 0; j < r; j++) {
        for (int i = 0; i < p; i++) {
          out[j][i] = sum[i * r + j] / n + (lambda + delta) * columns[j][i];
        }
      }
      return out;
    };
  }

  /** Solves for each column of {@code rhs} (rows of length p); logs iterations and residuals. */
  static double[][] solve(
      ConjugateGradient.LinearOperator op, double[][] rhs, String side, Consumer<String> log) {
    ConjugateGradient.Solution r = ConjugateGradient.solve(op, rhs, TOLERANCE, MAX_ITERATIONS);
    log.accept(
        String.format(
            "influence cg: %d right-hand sides (%s side), %d passes over the data, max relative residual %.2e%s",
            rhs.length,
            side,
            r.iterations(),
            r.maxRelativeResidual(),
            r.converged() ? "" : " (NOT converged: raise attribute.damping)"));
    return r.solutions();
  }

  /**
   * Group side: the group gradients come to the driver (few groups), solved, and go back as blocks.
   */
  static List<BlockFeatures> solveGroups(
      List<BlockFeatures> blocks,
      ConjugateGradient.LinearOperator op,
      int p,
      Consumer<String> log) {
    List<double[]> rhs = new ArrayList<>();
    for (BlockFeatures b : blocks) {
      for (int j = 0; j < b.groups(); j++) {
        double[] g = new double[p];
        for (int i = 0; i < p; i++) {
          g[i] = b.loss[0][j * p + i];
        }
        rhs.add(g);
      }
    }
    double[][] w = solve(op, rhs.toArray(double[][]::new), "group", log);
    List<BlockFeatures> out = new ArrayList<>();
    int idx = 0;
    for (BlockFeatures b : blocks) {
      float[] solved = new float[b.groups() * p];
      for (int j = 0; j < b.groups(); j++, idx++) {
        for (int i = 0; i < p; i++) {
          solved[j * p + i] = (float) w[idx][i];
        }
      }
      out.add(b.withLoss(new float[][] {solved}));
    }
    return out;
  }

  private static double[] add(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }
}
