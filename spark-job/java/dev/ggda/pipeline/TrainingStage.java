package dev.ggda.pipeline;

import dev.ggda.config.GgdaConfig;
import dev.ggda.config.ModelConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.model.TrainedModel;
import dev.ggda.training.DistributedTrainer;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import org.apache.spark.sql.SparkSession;

/**
 * Picks where to train: on the driver when the training set fits comfortably (fastest, exact
 * mini-batch SGD), otherwise on the executors (DistributedTrainer). `train.mode` forces either.
 */
final class TrainingStage {
  /** Feature values above which auto mode trains distributed (~400 MB of float32 on the driver). */
  static final long LOCAL_LIMIT_VALUES = 100_000_000L;

  private final SparkSession spark;
  private final GgdaConfig config;
  private final Console console;

  TrainingStage(SparkSession spark, GgdaConfig config, Console console) {
    this.spark = spark;
    this.config = config;
    this.console = console;
  }

  static Architecture architecture(ModelConfig m, int dim, int classes) {
    int[] hidden =
        switch (m.kind()) {
          case LOGISTIC -> new int[0];
          case MLP -> m.hidden().stream().mapToInt(Integer::intValue).toArray();
        };
    return new Architecture(dim, hidden, classes, m.activation());
  }

  /**
   * Whether training (and each evaluation retraining) runs on one JVM rather than across executors.
   */
  static boolean trainsLocally(GgdaConfig config, LoadedData data) {
    TrainMode mode = config.train().mode();
    return mode == TrainMode.LOCAL
        || (mode == TrainMode.AUTO && data.count() * data.dim() <= LOCAL_LIMIT_VALUES);
  }

  TrainedModel train(LoadedData data) {
    Architecture arch = architecture(config.model(), data.dim(), data.classes());
    boolean local = trainsLocally(config, data);
    console.info(
        "train: %s, %,d parameters, %d member(s), %d epochs, %s on %s",
        arch,
        arch.paramCount(),
        config.train().members(),
        config.train().epochs(),
        local ? "mini-batch SGD" : "sharded SGD with parameter averaging",
        local ? "the driver" : "the executors");
    if (!local) {
      return new DistributedTrainer(arch, config.train(), config.model().l2())
          .train(data, console::info);
    }
    LocalData rows = LocalData.collect(data);
    TrainingData td = new TrainingData(rows.features(), rows.labels(), rows.dim());
    long[] memberStart = {System.nanoTime()};
    return new LocalTrainer(arch, config.train(), config.model().l2())
        .train(
            td,
            (member, members, epoch, epochs, done, loss) -> {
              // done counts this member's rows, so the rate is measured from this member's start.
              double secs = (System.nanoTime() - memberStart[0]) / 1e9;
              if (epoch == epochs) {
                memberStart[0] = System.nanoTime();
              }
              console.info(
                  "train: member %d/%d epoch %d/%d, %,d rows, %.0f rows/s, mean loss %.4f",
                  member + 1, members, epoch, epochs, done, done / Math.max(secs, 1e-9), loss);
            });
  }
}
