package dev.ggda.config;

/**
 * `ggda detect-noise` settings.
 *
 * @param signal self-influence | validation (harm to the clean targets)
 * @param exampleSignal loss | margin | checkpoint-loss | checkpoint-self-influence | refit-loss:
 *     orders the examples inside each group
 * @param refitFraction the refit-loss signal retrains without this fraction of the training set,
 *     the highest final losses, in (0, 1)
 * @param injectFraction with --inject-noise (detect-noise and prune): fraction of training labels
 *     flipped, in (0, 1)
 * @param injectKind uniform | pair: the class a flipped label gets
 * @param seed seeds the injected flips and the random baseline
 */
public record NoiseConfig(
    NoiseSignal signal,
    ExampleSignal exampleSignal,
    double refitFraction,
    double injectFraction,
    FlipKind injectKind,
    long seed) {}
