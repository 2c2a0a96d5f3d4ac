package dev.ggda.apps;

import dev.ggda.config.TrainConfig;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import java.util.List;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Retrains one model per {@link PruneValidation.Run} on the driver and scores it on a test set. */
final class Retraining {
  private Retraining() {}

  static double[] accuracies(LocalData train, LocalData test, Architecture arch, TrainConfig base, double l2,
      List<PruneValidation.Run> runs, Consumer<String> log) {
    TrainingData data = new TrainingData(train.features(), train.labels(), train.dim());
    double[] acc = new double[runs.size()];
    for (int i = 0; i < runs.size(); i++) {
      PruneValidation.Run run = runs.get(i);
      TrainConfig c = new TrainConfig(base.epochs(), base.batchSize(), base.learningRate(), base.schedule(), 1, 1,
          base.memberFraction(), run.trainSeed(), base.mode());
      List<Checkpoint> cps = new LocalTrainer(arch, c, l2).trainMember(data, run.rows(), 0, null);
      acc[i] = accuracy(Network.fromFloats(arch, cps.get(cps.size() - 1).params()), test);
      log.accept(String.format("prune --validate: %s (%d rows, seed %d): test accuracy %.4f [%d/%d]", run.id(), run.rows().length,
          run.trainSeed(), acc[i], i + 1, runs.size()));
    }
    return acc;
  }

  static double accuracy(Network net, LocalData test) {
    long correct = 0;
    int batch = 4096;
    for (int start = 0; start < test.size(); start += batch) {
      int m = Math.min(batch, test.size() - start);
      INDArray x = dev.ggda.math.Flat.matrix(test.features(), start * test.dim(), m, test.dim());
      int[] pred = net.logits(x).argMax(1).toIntVector();
      for (int i = 0; i < m; i++) {
        if (pred[i] == test.labels()[start + i]) {
          correct++;
        }
      }
    }
    return (double) correct / test.size();
  }
}
