package dev.ggda.config;

/**
 * A per-example signal of the trained model, read as "likely mislabeled" when high (loss,
 * checkpoint loss, checkpoint self-influence, refit loss) or low (margin): it orders examples
 * inside a flagged group, ranks examples alone, and names the baselines the apps report.
 */
public enum ExampleSignal {
  /** Cross-entropy loss of the final model. */
  LOSS,
  /** TRAK's margin of the final model (low first). */
  MARGIN,
  /** Loss averaged over the recorded checkpoints of member 0. */
  CHECKPOINT_LOSS,
  /** TracIn self-influence: sum over checkpoints of learning rate x squared gradient norm. */
  CHECKPOINT_SELF_INFLUENCE,
  /**
   * Loss under a model retrained, with the run's recipe, without the examples the final loss ranks
   * most suspicious (noise.refit_fraction of the training set): the exact effect of removing that
   * group, which a model that learned a systematic confusion cannot show in its own loss.
   */
  REFIT_LOSS
}
