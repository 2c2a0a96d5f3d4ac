package dev.ggda.config;

/**
 * @param method random | label | column | kmeans-input | kmeans-repr | kmeans-grad
 * @param size mean group size (1 = per-example attribution)
 * @param count number of groups instead of a size; null uses size
 * @param seed seeds random assignment and k-means
 */
public record GroupConfig(GroupMethod method, int size, Integer count, long seed) {}
