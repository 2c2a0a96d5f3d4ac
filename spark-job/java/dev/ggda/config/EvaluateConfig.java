package dev.ggda.config;

import java.util.List;

/**
 * Settings of `ggda evaluate`: which fidelity checks to run and how many retrainings each costs.
 *
 * @param metrics lds | group-lds | removal | loo
 * @param subsets m, the random training subsets of LDS (each retrained {@code seeds} times)
 * @param fraction alpha, the fraction of examples (LDS) or groups (group LDS) each subset keeps
 * @param seeds retraining runs per subset; the ground truth is the mean margin over them
 * @param seedMode independent: a fresh seed per subset and run; shared: run s of every subset uses
 *     the same seed (common random numbers). Removal and leave-one-group-out always pair seeds
 *     across the strategies they compare.
 * @param groupSubsets subsets of group LDS; null uses {@code subsets}
 * @param removalFractions fractions of the training examples removed by counterfactual removal
 * @param removalSeeds retraining seeds per removal (and for the full-data and random baselines)
 * @param looGroups groups left out one at a time (chosen at random, seeded) by the loo check
 * @param seed seeds subsets, random removal and the leave-out choice
 * @param retrainStore a folder (any Hadoop path) where finished retrainings are kept across runs
 *     and reused by any later evaluation with the same recipe, training set and targets; null keeps
 *     them in the run's staging folder only
 */
public record EvaluateConfig(
    List<EvalMetric> metrics,
    int subsets,
    double fraction,
    int seeds,
    SeedMode seedMode,
    Integer groupSubsets,
    List<Double> removalFractions,
    int removalSeeds,
    int looGroups,
    long seed,
    String retrainStore) {

  public int groupSubsetCount() {
    return groupSubsets == null ? subsets : groupSubsets;
  }
}
