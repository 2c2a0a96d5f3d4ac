package dev.ggda.config;

/** Fidelity checks `ggda evaluate` runs; YAML spelling is lower case with hyphens: group-lds. */
public enum EvalMetric {
  /** Linear datamodeling score over random example subsets (TRAK, dattri). */
  LDS,
  /** LDS over random subsets of whole groups. */
  GROUP_LDS,
  /** Counterfactual removal of the top-attributed examples against random removal. */
  REMOVAL,
  /** Leave-one-group-out retraining against the predicted change (small data). */
  LOO
}
