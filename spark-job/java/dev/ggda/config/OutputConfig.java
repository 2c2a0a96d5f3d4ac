package dev.ggda.config;

/**
 * @param path output root (any Hadoop path)
 * @param format parquet | csv for the tables
 * @param topK keep only the k highest-scoring groups per target in scores/; null keeps all pairs
 * @param mode error (refuse an existing complete output) | overwrite | resume (reuse completed
 *     stages)
 */
public record OutputConfig(String path, OutputFormat format, Integer topK, OutputMode mode) {}
