package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ActivationKind;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NetworkSmokeTest {
  @Test
  void gradientOfSummedLossMatchesFiniteDifferenceOnOneCoordinate() {
    Architecture arch = new Architecture(3, new int[] {4}, 3, ActivationKind.TANH);
    Network net = Network.initialise(arch, 7, DataType.DOUBLE);
    INDArray x = Nd4j.createFromArray(new double[][] {{0.1, -0.2, 0.3}, {1.0, 0.5, -0.7}});
    int[] y = {2, 0};
    Network.LossGradient lg = net.lossGradient(x, y);
    int k = 5;
    double h = 1e-6;
    double orig = net.params().getDouble(k);
    net.params().putScalar(k, orig + h);
    double up = Losses.crossEntropy(net.logits(x), y).sumNumber().doubleValue();
    net.params().putScalar(k, orig - h);
    double down = Losses.crossEntropy(net.logits(x), y).sumNumber().doubleValue();
    net.params().putScalar(k, orig);
    assertEquals((up - down) / (2 * h), lg.gradient().sum().getDouble(k), 1e-7);
  }
}
