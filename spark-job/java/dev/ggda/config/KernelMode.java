package dev.ggda.config;

/** TRAK's kernel (the k x k matrix it inverts), and where it is summed from. */
public enum KernelMode {
  /** Every training example's projected margin gradient. */
  EXACT,
  /** The groups' summed margin gradients, each outer product divided by |G|. */
  BATCHED,
  /** A seeded sample of examples, scaled by n / samples. */
  SAMPLED,
  /** The groups' own loss rows, Q-normalised: one projected row per group, exact at size 1. */
  GROUP
}
