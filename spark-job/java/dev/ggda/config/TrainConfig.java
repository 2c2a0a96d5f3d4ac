package dev.ggda.config;

/**
 * Training settings. Mini-batch SGD on the mean loss plus L2; the learning rate in effect at each
 * checkpoint is recorded for TracIn.
 *
 * @param epochs passes over the (member's) training subset
 * @param batchSize examples per SGD step
 * @param learningRate initial learning rate
 * @param schedule constant | linear (linear decay to 0 over the run)
 * @param checkpoints number of checkpoints saved, evenly spaced, the last one being the final model
 * @param members ensemble members (TRAK); member 0 trains on all data when members == 1
 * @param memberFraction fraction of the training set each member trains on when members > 1
 * @param seed seeds shuffling, initialisation and member subsets
 * @param mode auto | local | distributed: local trains on the driver (data must fit), distributed
 *     aggregates batched gradients over executors
 */
public record TrainConfig(
    int epochs,
    int batchSize,
    double learningRate,
    LrSchedule schedule,
    int checkpoints,
    int members,
    double memberFraction,
    long seed,
    TrainMode mode)
    implements java.io.Serializable {

  /** The same recipe for one model on all its rows, with only the final checkpoint. */
  public TrainConfig oneMember() {
    return new TrainConfig(epochs, batchSize, learningRate, schedule, 1, 1, 1.0, seed, mode);
  }
}
