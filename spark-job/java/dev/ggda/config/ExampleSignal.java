package dev.ggda.config;

/**
 * A cheap per-example signal of the trained model, read as "likely mislabeled" when high (loss,
 * checkpoint loss, checkpoint self-influence) or low (margin): it orders examples inside a flagged
 * group, ranks examples alone, and names the baselines the apps report.
 */
public enum ExampleSignal {
  /** Cross-entropy loss of the final model. */
  LOSS,
  /** TRAK's margin of the final model (low first). */
  MARGIN,
  /** Loss averaged over the recorded checkpoints of member 0. */
  CHECKPOINT_LOSS,
  /** TracIn self-influence: sum over checkpoints of learning rate x squared gradient norm. */
  CHECKPOINT_SELF_INFLUENCE
}
