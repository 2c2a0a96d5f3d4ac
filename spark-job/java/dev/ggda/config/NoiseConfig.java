package dev.ggda.config;

/**
 * `ggda detect-noise` settings.
 *
 * @param signal self-influence | validation (harm to the clean targets)
 * @param exampleSignal loss | margin: orders the examples inside each group
 * @param injectFraction with --inject-noise: fraction of training labels flipped to a random other
 *     class, in (0, 1)
 * @param seed seeds the injected flips and the random baseline
 */
public record NoiseConfig(
    NoiseSignal signal, ExampleSignal exampleSignal, double injectFraction, long seed) {}
