package dev.ggda.attribution;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionConfig;
import dev.ggda.config.ProjectionKind;
import dev.ggda.config.TargetMode;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Influence functions predict leave-group-out retraining: on a small, strongly regularised logistic
 * regression trained to its optimum, the IF score of each of 40 groups on the summed target loss
 * correlates with the loss change measured by actually retraining without the group.
 */
class InfluenceRetrainingTest {
  static final double L2 = 0.1;

  @Test
  void exactInfluenceCorrelatesWithLeaveGroupOutRetraining() {
    Architecture arch = Architecture.logistic(4, 3);
    AttributionFixture f = new AttributionFixture(160, 20, 4, 3, 40, 31);
    // Equal group sizes: removing m examples from the mean-form objective also shifts the optimum
    // by a
    // term in m * l2 * theta that is the same for every group of size m, so it cannot blur a
    // correlation.
    for (int i = 0; i < f.n; i++) {
      f.groupOf[i] = i % f.groups;
    }
    double[] optimum =
        minimise(arch, f, null, Network.initialise(arch, 1, DataType.DOUBLE).paramsAsDoubles());
    float[] params = new float[optimum.length];
    for (int i = 0; i < params.length; i++) {
      params[i] = (float) optimum[i];
    }
    f.model = new TrainedModel(arch, L2, List.of(List.of(new Checkpoint(0, 0, 0, 0, 0, params))));
    AttributeConfig cfg =
        new AttributeConfig(
            AttributionMethod.IF,
            new ProjectionConfig(ProjectionKind.NONE, 0, 0),
            KernelMode.EXACT,
            HessianMode.EXACT,
            0.0,
            TargetMode.AGGREGATE);
    AttributionStage.Prepared p =
        new AttributionStage(cfg, line -> {})
            .prepare(f.trainData(2), f.groupAssignment(2), f.targetData(2), f.model, f.n, 2);
    ScoreStage.Scored t = ScoreStage.score(SparkTestSession.get(), p.blocks, p.operator, null);
    double[] predicted = new double[f.groups];
    for (Row r : t.scores.collectAsList()) {
      predicted[(int) r.getLong(1)] = r.getDouble(2);
    }
    t.release();
    double base = targetLoss(arch, f, optimum);
    double[] actual = new double[f.groups];
    for (int g = 0; g < f.groups; g++) {
      actual[g] = targetLoss(arch, f, minimise(arch, f, (long) g, optimum)) - base;
    }
    double r = pearson(predicted, actual);
    System.out.printf(
        "IF vs leave-group-out retraining over %d groups: Pearson %.4f%n", f.groups, r);
    assertTrue(r >= 0.95, "Pearson(IF prediction, leave-group-out retraining) = " + r);
  }

  /**
   * Full-batch gradient descent to the optimum of (1/n) sum l + (l2/2)||theta||^2, without one
   * group.
   */
  static double[] minimise(Architecture arch, AttributionFixture f, Long without, double[] start) {
    int keep = 0;
    for (int i = 0; i < f.n; i++) {
      keep += without != null && f.groupOf[i] == without ? 0 : 1;
    }
    double[] x = new double[keep * f.dim];
    int[] y = new int[keep];
    int r = 0;
    for (int i = 0; i < f.n; i++) {
      if (without != null && f.groupOf[i] == without) {
        continue;
      }
      for (int j = 0; j < f.dim; j++) {
        x[r * f.dim + j] = f.x[i * f.dim + j];
      }
      y[r++] = f.y[i];
    }
    // Newton's method (for logistic regression the Gauss-Newton matrix is the Hessian): converges
    // to
    // machine precision, so the tiny loss changes measured below are not optimisation noise.
    Network net = Network.fromDoubles(arch, start);
    INDArray xs = Nd4j.create(x, new long[] {keep, f.dim}, 'c');
    int p = (int) arch.paramCount();
    for (int step = 0; step < 50; step++) {
      double[] g =
          net.lossGradient(xs, y)
              .gradient()
              .sum()
              .divi(keep)
              .addi(net.params().mul(L2))
              .toDoubleVector();
      double[] h = new double[p * p];
      dev.ggda.math.GaussNewton.accumulateHessian(net, xs, y, h);
      for (int i = 0; i < h.length; i++) {
        h[i] /= keep;
      }
      double[] d = dev.ggda.math.CholeskySolver.factor(h, p, L2).solve(g, 1);
      double norm = 0;
      for (int i = 0; i < p; i++) {
        net.params().putScalar(i, net.params().getDouble(i) - d[i]);
        norm += g[i] * g[i];
      }
      if (Math.sqrt(norm) < 1e-13) {
        break;
      }
    }
    return net.paramsAsDoubles();
  }

  static double targetLoss(Architecture arch, AttributionFixture f, double[] params) {
    double[] x = new double[f.ty.length * f.dim];
    for (int i = 0; i < x.length; i++) {
      x[i] = f.tx[i];
    }
    Network net = Network.fromDoubles(arch, params);
    return Losses.crossEntropy(
            net.logits(Nd4j.create(x, new long[] {f.ty.length, f.dim}, 'c')), f.ty)
        .sumNumber()
        .doubleValue();
  }

  static double pearson(double[] a, double[] b) {
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < a.length; i++) {
      ma += a[i] / a.length;
      mb += b[i] / b.length;
    }
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < a.length; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / Math.sqrt(saa * sbb);
  }
}
