package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.ProjectionKind;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class FactoredProjectionTest {
  static final Architecture ARCH = new Architecture(6, new int[] {5}, 4, ActivationKind.TANH);

  static BatchGradient batch(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] x = new double[n * 6];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(4);
      for (int j = 0; j < 6; j++) {
        x[i * 6 + j] = rnd.nextGaussian();
      }
    }
    Network net = Network.initialise(ARCH, seed, DataType.DOUBLE);
    return net.lossGradient(Nd4j.create(x, new long[] {n, 6}, 'c'), y).gradient();
  }

  @Test
  void withFactorsAsWideAsTheLayersItIsTheExactGradient() {
    BatchGradient g = batch(7, 1);
    FactoredProjection f = new FactoredProjection(ARCH, (int) ARCH.paramCount() * 4, 3, 0, 0);
    assertEquals(ARCH.paramCount(), f.dim());
    INDArray exact = g.perExample(ARCH);
    INDArray features = f.perExample(g);
    assertEquals(0.0, exact.sub(features).amaxNumber().doubleValue(), 1e-12);
  }

  @Test
  void eachLayerIsProjectedByTheKroneckerProductOfItsFactors() {
    BatchGradient g = batch(5, 2);
    FactoredProjection f = new FactoredProjection(ARCH, 20, 3, 1, 2);
    INDArray features = f.perExample(g);
    // Brute force: example i, layer l: P_in^T [a_i; 1] d_i^T P_out, with P_in, P_out read back by
    // projecting identity matrices through the same keyed generators.
    long off = 0;
    for (int l = 0; l < ARCH.layers(); l++) {
      int inW = ARCH.layerIn(l) + 1;
      int outW = ARCH.layerOut(l);
      long s = Seeds.mix(3, 0xFAC7L + l);
      INDArray pin = factor(inW, features, f, l, true, s);
      INDArray pout = factor(outW, features, f, l, false, Seeds.mix(s, 1));
      for (int i = 0; i < 5; i++) {
        INDArray a =
            Nd4j.hstack(
                g.layerInputs()[l].getRow(i).reshape(1, -1), Nd4j.ones(DataType.DOUBLE, 1, 1));
        INDArray d = g.outputGrads()[l].getRow(i).reshape(1, -1);
        INDArray expected = pin.transpose().mmul(a.transpose().mmul(d)).mmul(pout).reshape(-1);
        INDArray actual =
            features.get(
                NDArrayIndex.point(i), NDArrayIndex.interval(off, off + expected.length()));
        assertEquals(
            0.0,
            expected.sub(actual.reshape(-1)).amaxNumber().doubleValue(),
            1e-10,
            "layer " + l + " example " + i);
      }
      off += pin.columns() * pout.columns();
    }
    assertEquals(f.dim(), off);
  }

  private static INDArray factor(
      int width, INDArray features, FactoredProjection f, int l, boolean in, long seed) {
    int k = in ? kIn(f, l) : kOut(f, l);
    if (k == width) {
      return Nd4j.eye(width).castTo(DataType.DOUBLE);
    }
    return new Projection(ProjectionKind.RADEMACHER, width, k, seed, 1, 2)
        .project(Nd4j.eye(width).castTo(DataType.DOUBLE));
  }

  private static int kIn(FactoredProjection f, int l) {
    return field(f, "kIn")[l];
  }

  private static int kOut(FactoredProjection f, int l) {
    return field(f, "kOut")[l];
  }

  private static int[] field(FactoredProjection f, String name) {
    try {
      var fld = FactoredProjection.class.getDeclaredField(name);
      fld.setAccessible(true);
      return (int[]) fld.get(f);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void groupRowsAreSumsOfPerExampleRowsAndInnerProductsArePreservedOnAverage() {
    BatchGradient g = batch(9, 3);
    FactoredProjection f = new FactoredProjection(ARCH, 24, 5, 0, 0);
    INDArray e = f.perExample(g);
    INDArray groups = f.groupRows(g, new int[] {0, 4, 5, 9});
    assertEquals(
        0.0,
        groups
            .getRow(0)
            .sub(e.get(NDArrayIndex.interval(0, 4), NDArrayIndex.all()).sum(0))
            .amaxNumber()
            .doubleValue(),
        1e-12);
    assertEquals(0.0, groups.getRow(1).sub(e.getRow(4)).amaxNumber().doubleValue(), 1e-12);
    // E[<Pg, Pg'>] = <g, g'>: average over 200 seeds of the projected inner product of two
    // examples.
    INDArray exact = g.perExample(ARCH);
    double truth = exact.getRow(0).mul(exact.getRow(1)).sumNumber().doubleValue();
    double mean = 0;
    int trials = 200;
    for (int t = 0; t < trials; t++) {
      INDArray p = new FactoredProjection(ARCH, 24, 100 + t, 0, 0).perExample(g);
      mean += p.getRow(0).mul(p.getRow(1)).sumNumber().doubleValue() / trials;
    }
    // Scale of the inner product: sqrt(||g0|| ||g1||), squared below.
    double norm =
        Math.sqrt(
            exact.getRow(0).norm2Number().doubleValue()
                * exact.getRow(1).norm2Number().doubleValue());
    assertTrue(
        Math.abs(mean - truth) < 0.15 * norm * norm,
        "mean projected inner product "
            + mean
            + " vs exact "
            + truth
            + " (norm scale "
            + norm
            + ")");
  }
}
