package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.testing.Reference;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link Losses} against plain-Java double arithmetic, in float64 and float32. */
class LossesTest {

  // ------------------------------------------------------------------ plain-Java references

  private static double refSoftmax(double[] z, int c) {
    return Math.exp(z[c] - Reference.logSumExp(z, -1));
  }

  private static double refCrossEntropy(double[] z, int y) {
    return Reference.logSumExp(z, -1) - z[y];
  }

  private static double refMargin(double[] z, int y) {
    return z[y] - Reference.logSumExp(z, y);
  }

  private static double[][] randomLogits(int n, int classes, double scale, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] z = new double[n][classes];
    for (double[] row : z) {
      for (int c = 0; c < classes; c++) {
        row[c] = r.nextGaussian() * scale;
      }
    }
    return z;
  }

  private static int[] labels(int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
    }
    return y;
  }

  // ------------------------------------------------------------------ tests

  @Test
  void softmaxRowsSumToOneAndMatchReference() {
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double tol = dt == DataType.DOUBLE ? 1e-14 : 1e-6;
      double[][] z = randomLogits(6, 5, 3.0, 1);
      INDArray p = Losses.softmax(Nd4j.createFromArray(z).castTo(dt));
      assertEquals(dt, p.dataType());
      for (int i = 0; i < z.length; i++) {
        double rowSum = 0;
        for (int c = 0; c < 5; c++) {
          double v = p.getDouble(i, c);
          assertTrue(v >= 0 && v <= 1);
          assertEquals(refSoftmax(z[i], c), v, tol);
          rowSum += v;
        }
        assertEquals(1.0, rowSum, tol * 5);
      }
    }
  }

  @Test
  void crossEntropyMarginAndQMatchReference() {
    for (int classes : new int[] {2, 3, 10}) {
      double[][] z = randomLogits(8, classes, 2.5, classes);
      int[] y = labels(8, classes, classes + 1);
      INDArray logits = Nd4j.createFromArray(z);
      INDArray ce = Losses.crossEntropy(logits, y);
      INDArray f = Losses.margin(logits, y);
      INDArray q = Losses.oneMinusTrueProbability(logits, y);
      for (int i = 0; i < z.length; i++) {
        assertEquals(refCrossEntropy(z[i], y[i]), ce.getDouble(i), 1e-12);
        assertEquals(refMargin(z[i], y[i]), f.getDouble(i), 1e-12);
        assertEquals(1 - refSoftmax(z[i], y[i]), q.getDouble(i), 1e-12);
        if (classes == 2) {
          assertEquals(
              z[i][y[i]] - z[i][1 - y[i]], f.getDouble(i), 1e-12); // margin = logit difference
        }
      }
    }
  }

  @Test
  void stableWithLogitsAroundTenThousand() {
    double[][] z = {
      {1e4, 1e4 - 3, -1e4, 5e3},
      {-1e4, -1e4 + 2, -1e4 + 1, -1e4},
      {1e4, 1e4, 1e4, 1e4},
      {2e4, -2e4, 0, 1e4},
    };
    int[] y = {1, 0, 2, 1};
    for (DataType dt : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      INDArray logits = Nd4j.createFromArray(z).castTo(dt);
      INDArray p = Losses.softmax(logits);
      INDArray ce = Losses.crossEntropy(logits, y);
      INDArray f = Losses.margin(logits, y);
      INDArray dce = Losses.crossEntropyGradient(logits, y);
      INDArray df = Losses.marginGradient(logits, y);
      INDArray q = Losses.oneMinusTrueProbability(logits, y);
      for (INDArray a : new INDArray[] {p, ce, f, dce, df, q}) {
        for (double v : a.castTo(DataType.DOUBLE).dup().data().asDouble()) {
          assertTrue(Double.isFinite(v), dt + " produced inf/NaN: " + a);
        }
      }
      // float32 holds 1e4 to ~1e-3: compare with a tolerance relative to the logit scale.
      double tol = dt == DataType.DOUBLE ? 1e-9 : 4e-3;
      for (int i = 0; i < z.length; i++) {
        assertEquals(
            refCrossEntropy(z[i], y[i]),
            ce.getDouble(i),
            tol * Math.max(1, Math.abs(refCrossEntropy(z[i], y[i])) / 1e4));
        assertEquals(
            refMargin(z[i], y[i]),
            f.getDouble(i),
            tol * Math.max(1, Math.abs(refMargin(z[i], y[i])) / 1e4));
        for (int c = 0; c < 4; c++) {
          assertEquals(
              refSoftmax(z[i], c), p.getDouble(i, c), dt == DataType.DOUBLE ? 1e-12 : 1e-3);
        }
      }
      assertEquals(
          3.0 + Math.log1p(Math.exp(-3)), ce.getDouble(0), dt == DataType.DOUBLE ? 1e-9 : 1e-3);
    }
  }

  @Test
  void logitGradientsMatchFiniteDifferences() {
    double h = 1e-6;
    double[][] z = randomLogits(5, 4, 2.0, 7);
    int[] y = labels(5, 4, 8);
    INDArray dce = Losses.crossEntropyGradient(Nd4j.createFromArray(z), y);
    INDArray df = Losses.marginGradient(Nd4j.createFromArray(z), y);
    for (int i = 0; i < z.length; i++) {
      for (int c = 0; c < 4; c++) {
        double[] up = z[i].clone();
        double[] down = z[i].clone();
        up[c] += h;
        down[c] -= h;
        assertEquals(
            (refCrossEntropy(up, y[i]) - refCrossEntropy(down, y[i])) / (2 * h),
            dce.getDouble(i, c),
            1e-8);
        assertEquals(
            (refMargin(up, y[i]) - refMargin(down, y[i])) / (2 * h), df.getDouble(i, c), 1e-8);
      }
    }
  }

  /**
   * dl/dz = -(1 - p_y) df/dz exactly: at y both sides are p_y - 1; at c != y, (1 - p_y) times the
   * softmax over the other classes is p_c. This is what lets TRAK write psi_G = -P^T g_G.
   */
  @Test
  void crossEntropyGradientIsMinusQTimesMarginGradient() {
    for (double scale : new double[] {0.5, 3, 30}) {
      double[][] z = randomLogits(10, 6, scale, (long) scale);
      int[] y = labels(10, 6, 99);
      INDArray logits = Nd4j.createFromArray(z);
      INDArray dce = Losses.crossEntropyGradient(logits, y);
      INDArray q = Losses.oneMinusTrueProbability(logits, y);
      INDArray rhs = Losses.marginGradient(logits, y).mulColumnVector(q.reshape(-1, 1)).negi();
      for (int i = 0; i < z.length; i++) {
        for (int c = 0; c < 6; c++) {
          assertEquals(
              dce.getDouble(i, c),
              rhs.getDouble(i, c),
              1e-12,
              "scale " + scale + " row " + i + " class " + c);
        }
      }
    }
  }

  /**
   * Confident examples (p_y within float32 epsilon of 1) must keep an accurate Q and a zero-sum
   * gradient in float32; a plain 1 - p_y rounds both to 0 there.
   */
  @Test
  void float32StaysAccurateForConfidentExamples() {
    double[][] z = {{20, 0, 0}, {30, -1, 2}, {17, 16.5, -3}, {0.3, 0.1, -0.2}};
    int[] y = {0, 0, 0, 2};
    INDArray logits = Nd4j.createFromArray(z).castTo(DataType.FLOAT);
    INDArray q = Losses.oneMinusTrueProbability(logits, y);
    INDArray dce = Losses.crossEntropyGradient(logits, y);
    INDArray rhs = Losses.marginGradient(logits, y).mulColumnVector(q.reshape(-1, 1)).negi();
    for (int i = 0; i < z.length; i++) {
      double refQ =
          Math.exp(
              Reference.logSumExp(z[i], y[i])
                  - Reference.logSumExp(z[i], -1)); // sum of the others' p
      assertEquals(refQ, q.getDouble(i), 1e-5 * refQ, "Q row " + i);
      double rowSum = 0;
      for (int c = 0; c < 3; c++) {
        double ref = refSoftmax(z[i], c) - (c == y[i] ? 1 : 0);
        assertEquals(
            ref,
            dce.getDouble(i, c),
            1e-5 * Math.abs(ref) + 1e-7,
            "dl/dz row " + i + " class " + c);
        assertEquals(
            dce.getDouble(i, c),
            rhs.getDouble(i, c),
            1e-5 * Math.abs(ref) + 1e-12,
            "identity row " + i);
        rowSum += dce.getDouble(i, c);
      }
      assertEquals(0.0, rowSum, 1e-6 * refQ + 1e-7);
    }
  }

  @Test
  void oneHotPlacesOnesAtLabels() {
    INDArray oh = Losses.oneHot(new int[] {2, 0, 1}, 3, DataType.DOUBLE);
    assertEquals(Nd4j.createFromArray(new double[][] {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}}), oh);
  }
}
