package dev.ggda.training;

import dev.ggda.config.TrainConfig;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.math.Seeds;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Mini-batch SGD on one JVM, for training sets that fit the driver. Minimises the mean
 * cross-entropy of each batch plus (l2/2)||theta||^2 (DESIGN.md section 2) and saves the
 * checkpoints and member models attribution needs. Every random choice (init, member subset, epoch
 * shuffles) is seeded from (seed, member, epoch), so a run is reproducible bit for bit.
 */
public final class LocalTrainer {

  /** Called after each epoch; rowsDone counts the member's rows seen so far. */
  public interface Progress {
    void epochDone(int member, int members, int epoch, int epochs, long rowsDone, double meanLoss);
  }

  private final Architecture arch;
  private final TrainConfig config;
  private final double l2;

  public LocalTrainer(Architecture arch, TrainConfig config, double l2) {
    this.arch = arch;
    this.config = config;
    this.l2 = l2;
  }

  public TrainedModel train(TrainingData data, Progress progress) {
    List<List<Checkpoint>> members = new ArrayList<>();
    for (int m = 0; m < config.members(); m++) {
      int[] rows =
          MemberSubsets.rows(
              data.rows(), config.members(), m, config.memberFraction(), config.seed());
      members.add(trainMember(data, rows, m, progress));
    }
    return new TrainedModel(arch, l2, members);
  }

  /**
   * Trains member {@code member} from its seeded initialisation on {@code rows} of {@code data}.
   */
  public List<Checkpoint> trainMember(
      TrainingData data, int[] rows, int member, Progress progress) {
    Network net = Network.initialise(arch, Seeds.mix(config.seed(), member), DataType.FLOAT);
    long stepsPerEpoch = SgdEpoch.steps(rows.length, config.batchSize());
    SgdSchedule plan =
        SgdSchedule.of(
            stepsPerEpoch * config.epochs(),
            config.learningRate(),
            config.schedule(),
            config.checkpoints());
    List<Checkpoint> checkpoints = new ArrayList<>();
    long[] at = plan.checkpointSteps();
    for (int epoch = 0; epoch < config.epochs(); epoch++) {
      SplittableRandom shuffle =
          new SplittableRandom(Seeds.mix(config.seed(), 1_000_000L * (member + 1) + epoch));
      double loss =
          SgdEpoch.run(
              net,
              data,
              rows,
              config.batchSize(),
              l2,
              plan::rateAt,
              epoch * stepsPerEpoch,
              shuffle,
              step -> {
                int next = checkpoints.size();
                if (next < at.length && step == at[next]) {
                  checkpoints.add(
                      new Checkpoint(
                          member,
                          next,
                          step,
                          (int) (step / stepsPerEpoch),
                          plan.checkpointRate(next),
                          net.paramsAsFloats()));
                }
              });
      if (progress != null) {
        progress.epochDone(
            member,
            config.members(),
            epoch + 1,
            config.epochs(),
            (long) rows.length * (epoch + 1),
            loss / rows.length);
      }
    }
    return checkpoints;
  }
}
