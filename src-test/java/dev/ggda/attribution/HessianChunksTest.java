package dev.ggda.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.math.Architecture;
import dev.ggda.math.GaussNewton;
import dev.ggda.math.Network;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The exact Hessian ships in chunks (Kryo's buffer holds one task result): the many-chunk sum, with
 * a chunk that does not divide p^2, equals the one-chunk sum and the driver-side accumulation.
 */
class HessianChunksTest {
  @Test
  void chunkedSumEqualsOneChunkAndTheDriverSideSum() {
    AttributionFixture f = new AttributionFixture(90, 5, 6, 3, 9, 4);
    Architecture arch = Architecture.logistic(6, 3);
    float[] params = Network.initialise(arch, 3, DataType.FLOAT).paramsAsFloats();
    int p = (int) arch.paramCount();
    double[] one = HessianStage.exactChunked(f.trainData(3).examples(), arch, params, p * p);
    double[] many = HessianStage.exactChunked(f.trainData(3).examples(), arch, params, 37);
    assertEquals(p * p, many.length);
    assertArrayEquals(one, many, 1e-12);
    assertArrayEquals(driverSideSum(f, arch, params), many, 1e-9);
  }

  /** Models with a hidden layer keep the dense per-class Gram path: same check for an MLP. */
  @Test
  void mlpChunkedSumEqualsTheDriverSideSum() {
    AttributionFixture f = new AttributionFixture(60, 5, 6, 3, 9, 4);
    Architecture arch = new Architecture(6, new int[] {4}, 3, dev.ggda.config.ActivationKind.TANH);
    float[] params = Network.initialise(arch, 5, DataType.FLOAT).paramsAsFloats();
    double[] many = HessianStage.exactChunked(f.trainData(3).examples(), arch, params, 53);
    assertArrayEquals(driverSideSum(f, arch, params), many, 1e-9);
  }

  /** The generic per-class Gram sum over all rows at once, on the driver, in float64. */
  private static double[] driverSideSum(AttributionFixture f, Architecture arch, float[] params) {
    int p = (int) arch.paramCount();
    double[] local = new double[p * p];
    Network dnet =
        new Network(arch, Network.fromFloats(arch, params).params().castTo(DataType.DOUBLE));
    double[] xd = new double[f.x.length];
    for (int i = 0; i < xd.length; i++) {
      xd[i] = f.x[i];
    }
    GaussNewton.accumulateHessian(
        dnet, dev.ggda.math.Flat.matrix(xd, f.n, arch.inputDim()), f.y, local);
    return local;
  }
}
