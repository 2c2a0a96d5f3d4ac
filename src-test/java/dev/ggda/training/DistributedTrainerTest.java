package dev.ggda.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.config.LrSchedule;
import dev.ggda.config.SyntheticSpec;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.model.TrainedModel;
import dev.ggda.spark.ModelMetrics;
import dev.ggda.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

class DistributedTrainerTest {
  static LoadedData synthetic(int partitions) {
    DataSource spec =
        new DataSource(
            null,
            DataFormat.SYNTHETIC,
            "id",
            "label",
            "features",
            null,
            null,
            null,
            new SyntheticSpec(3000, 8, 4, 0.0, 4.0, 5));
    LoadedData d = DataLoader.load(SparkTestSession.get(), spec, 4, "train");
    return new LoadedData(d.examples().repartition(partitions), d.dim(), d.classes(), d.count());
  }

  @Test
  void learnsAndGivesTheSameModelWhateverThePartitioning() {
    Architecture arch = new Architecture(8, new int[] {8}, 4, ActivationKind.RELU);
    TrainConfig cfg =
        new TrainConfig(4, 32, 0.1, LrSchedule.LINEAR, 2, 2, 0.6, 3, TrainMode.DISTRIBUTED);
    TrainedModel a = new DistributedTrainer(arch, cfg, 1e-4).train(synthetic(1), (f, args) -> {});
    TrainedModel b = new DistributedTrainer(arch, cfg, 1e-4).train(synthetic(7), (f, args) -> {});
    assertEquals(2, a.memberCount());
    assertEquals(2, a.members().get(0).size());
    for (int m = 0; m < 2; m++) {
      assertArrayEquals(
          a.finalCheckpoint(m).params(), b.finalCheckpoint(m).params(), "member " + m);
    }
    // Checkpoint learning rates follow the linear schedule over rounds: mean of 0.1 * (1 - r/4), r
    // = 0, 1.
    assertEquals(0.1 * (1 - 0.5 / 4), a.members().get(0).get(0).learningRate(), 1e-12);
    ModelMetrics m =
        ModelMetrics.evaluate(synthetic(2).examples(), arch, a.finalCheckpoint(0).params());
    assertTrue(m.accuracy() > 0.9, "accuracy " + m.accuracy());
  }
}
