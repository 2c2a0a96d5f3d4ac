package dev.ggda.config;

/**
 * `ggda detect-noise` settings.
 *
 * @param signal self-influence | validation (harm to the clean targets)
 * @param exampleSignal loss | margin | checkpoint-loss | checkpoint-self-influence: orders the
 *     examples inside each group
 * @param injectFraction with --inject-noise (detect-noise and prune): fraction of training labels
 *     flipped, in (0, 1)
 * @param injectKind uniform | pair: the class a flipped label gets
 * @param seed seeds the injected flips and the random baseline
 */
public record NoiseConfig(
    NoiseSignal signal,
    ExampleSignal exampleSignal,
    double injectFraction,
    FlipKind injectKind,
    long seed) {}
