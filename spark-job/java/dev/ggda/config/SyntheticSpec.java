package dev.ggda.config;

/**
 * Seeded Gaussian-mixture generator: one mean per class drawn from N(0, separation^2 / dim) per
 * coordinate using {@code seed}, unit-variance noise around it, and a {@code labelNoise} fraction
 * of labels flipped to a random other class. The class means depend on {@code seed} only, so a
 * train set and a target set with the same seed come from the same mixture; their samples differ
 * (role-keyed streams).
 */
public record SyntheticSpec(
    long n, int dim, int classes, double labelNoise, double separation, long seed) {}
