package dev.ggda.config;

import java.util.List;
import java.util.Objects;

/**
 * `ggda prune` settings.
 *
 * @param fraction fraction of the training examples to drop, lowest-ranked groups first, in (0, 1)
 * @param threshold when set, only groups whose rank_by value is below it are dropped (still at most
 *     fraction)
 * @param rankBy value-per-example | value (the group_values column the ranking uses)
 * @param validateFractions fractions retrained by --validate, each in (0, 1)
 * @param validateSeeds training seeds per fraction and strategy for --validate
 * @param validateBaselines per-example signals whose rankings --validate also retrains, each
 *     dropping as many examples as attribution pruning (most suspicious first)
 * @param testFraction with --validate: fraction of the targets held out (by seeded hash of the id)
 *     as the test set the retrained models are scored on; the rest ranks the groups
 */
public record PruneConfig(
    double fraction,
    Double threshold,
    PruneRankBy rankBy,
    List<Double> validateFractions,
    int validateSeeds,
    List<ExampleSignal> validateBaselines,
    double testFraction) {
  public PruneConfig {
    // A list with a null entry is kept as given, for the validator to name.
    validateBaselines =
        validateBaselines == null || validateBaselines.stream().anyMatch(Objects::isNull)
            ? validateBaselines
            : List.copyOf(validateBaselines);
  }
}
