package dev.ggda.config;

/**
 * @param device auto | cpu | cuda: where executors featurize ({@link ComputeDevice})
 */
public record ComputeConfig(ComputeDevice device) {}
