package dev.ggda.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.LrSchedule;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.math.Seeds;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class LocalTrainerTest {
  /** Two well-separated Gaussian blobs per class in 5 dimensions. */
  static TrainingData blobs(int n, int classes, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int d = 5;
    double[][] means = new double[classes][d];
    for (double[] m : means) {
      for (int j = 0; j < d; j++) {
        m[j] = rnd.nextGaussian() * 3;
      }
    }
    float[] x = new float[n * d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % classes;
      for (int j = 0; j < d; j++) {
        x[i * d + j] = (float) (means[y[i]][j] + rnd.nextGaussian());
      }
    }
    return new TrainingData(x, y, d);
  }

  static TrainConfig config(int epochs, int members, LrSchedule schedule) {
    return new TrainConfig(epochs, 16, 0.1, schedule, 3, members, 0.5, 42, TrainMode.LOCAL);
  }

  static double accuracy(Network net, TrainingData data) {
    int[] p =
        net.logits(Nd4j.create(data.x(), new long[] {data.rows(), data.dim()}, 'c'))
            .argMax(1)
            .toIntVector();
    int c = 0;
    for (int i = 0; i < p.length; i++) {
      c += p[i] == data.y()[i] ? 1 : 0;
    }
    return (double) c / p.length;
  }

  @Test
  void learnsSeparableDataAndIsReproducibleBitForBit() {
    TrainingData data = blobs(400, 3, 1);
    Architecture arch = new Architecture(5, new int[] {8}, 3, ActivationKind.TANH);
    TrainedModel a =
        new LocalTrainer(arch, config(6, 1, LrSchedule.CONSTANT), 1e-3).train(data, null);
    TrainedModel b =
        new LocalTrainer(arch, config(6, 1, LrSchedule.CONSTANT), 1e-3).train(data, null);
    assertArrayEquals(a.finalCheckpoint(0).params(), b.finalCheckpoint(0).params());
    assertTrue(
        accuracy(a.finalNetwork(), data) > 0.95, "accuracy " + accuracy(a.finalNetwork(), data));
  }

  @Test
  void recordsCheckpointsWithStepsAndRates() {
    TrainingData data = blobs(160, 2, 2);
    Architecture arch = Architecture.logistic(5, 2);
    // 160 rows / batch 16 = 10 steps per epoch, 3 epochs = 30 steps, 3 checkpoints at 10, 20, 30.
    List<Checkpoint> cps =
        new LocalTrainer(arch, config(3, 1, LrSchedule.LINEAR), 0)
            .train(data, null)
            .members()
            .get(0);
    assertEquals(3, cps.size());
    assertArrayEquals(new long[] {10, 20, 30}, cps.stream().mapToLong(Checkpoint::step).toArray());
    assertArrayEquals(new int[] {1, 2, 3}, cps.stream().mapToInt(Checkpoint::epoch).toArray());
    // Mean of 0.1 * (1 - s/30) over s = 0..9 is 0.1 * (1 - 4.5/30).
    assertEquals(0.1 * (1 - 4.5 / 30), cps.get(0).learningRate(), 1e-12);
    assertTrue(!java.util.Arrays.equals(cps.get(0).params(), cps.get(2).params()));
  }

  @Test
  void membersTrainOnDifferentSeededSubsets() {
    int[] r0 = MemberSubsets.rows(1000, 3, 0, 0.5, 7);
    int[] r1 = MemberSubsets.rows(1000, 3, 1, 0.5, 7);
    assertEquals(500, r0.length);
    assertEquals(500, r1.length);
    assertTrue(!java.util.Arrays.equals(r0, r1));
    assertArrayEquals(r0, MemberSubsets.rows(1000, 3, 0, 0.5, 7));
    TrainedModel m =
        new LocalTrainer(Architecture.logistic(5, 2), config(2, 2, LrSchedule.CONSTANT), 0)
            .train(blobs(100, 2, 3), null);
    assertEquals(2, m.memberCount());
    assertTrue(
        !java.util.Arrays.equals(m.finalCheckpoint(0).params(), m.finalCheckpoint(1).params()));
  }

  @Test
  void oneStepEqualsTheHandComputedSgdUpdateWithL2() {
    // A single full batch step: theta1 = theta0 - lr * (g_sum / n + l2 * theta0).
    TrainingData data = blobs(16, 2, 4);
    Architecture arch = Architecture.logistic(5, 2);
    double l2 = 0.05;
    TrainConfig one =
        new TrainConfig(1, 16, 0.3, LrSchedule.CONSTANT, 1, 1, 1.0, 9, TrainMode.LOCAL);
    float[] trained = new LocalTrainer(arch, one, l2).train(data, null).finalCheckpoint(0).params();
    Network start =
        Network.initialise(arch, Seeds.mix(9, 0), org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    double[] theta0 = start.paramsAsDoubles();
    double[] g =
        start
            .lossGradient(Nd4j.create(toDouble(data.x()), new long[] {16, 5}, 'c'), data.y())
            .gradient()
            .sum()
            .toDoubleVector();
    for (int i = 0; i < theta0.length; i++) {
      double expected = theta0[i] - 0.3 * (g[i] / 16 + l2 * theta0[i]);
      assertEquals(expected, trained[i], 1e-5, "parameter " + i);
    }
  }

  private static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }
}
