package dev.ggda.config;

/** How the retrainings of an LDS (over example subsets or group subsets) are seeded. */
public enum SeedMode {
  /**
   * A fresh seed for every subset and run, as TRAK and dattri retrain: each subset's model is an
   * independent draw of the training noise. The standard protocol.
   */
  INDEPENDENT,
  /**
   * One seed per run, shared by every subset: common random numbers. The training noise then moves
   * all subsets alike, which removes most of it from the truth and raises LDS; report it as such.
   */
  SHARED
}
