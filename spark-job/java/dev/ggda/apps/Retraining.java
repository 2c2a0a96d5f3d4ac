package dev.ggda.apps;

import dev.ggda.config.TrainConfig;
import dev.ggda.data.LocalData;
import dev.ggda.evaluation.RetrainResult;
import dev.ggda.evaluation.RetrainSpec;
import dev.ggda.evaluation.Retrainer;
import dev.ggda.math.Architecture;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;

/**
 * Retrains one model per {@link PruneValidation.Trial} with the evaluation engine's {@link
 * Retrainer} (parallel single-task Spark jobs, the run's train.* recipe with the run's seed, one
 * member) and returns each model's accuracy on the test set. Finished retrainings are stored under
 * {@code checkpointDir} and reused by a resumed run.
 */
final class Retraining {
  private Retraining() {}

  static double[] accuracies(
      SparkSession spark,
      LocalData train,
      LocalData test,
      Architecture arch,
      TrainConfig base,
      double l2,
      List<PruneValidation.Trial> runs,
      String checkpointDir,
      Consumer<String> log) {
    List<RetrainSpec> specs = new ArrayList<>();
    for (PruneValidation.Trial run : runs) {
      specs.add(new RetrainSpec(run.id(), run.rows(), run.trainSeed()));
    }
    List<RetrainResult> results =
        new Retrainer(spark, arch, base, l2).log(log).run(train, test, specs, checkpointDir);
    double[] acc = new double[runs.size()];
    for (int i = 0; i < acc.length; i++) {
      acc[i] = results.get(i).accuracy();
      log.accept(
          String.format(
              "prune --validate: %s (%d rows, seed %d): test accuracy %.4f",
              runs.get(i).id(), runs.get(i).rows().length, runs.get(i).trainSeed(), acc[i]));
    }
    return acc;
  }
}
