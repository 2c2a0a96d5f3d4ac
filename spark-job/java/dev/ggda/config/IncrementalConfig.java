package dev.ggda.config;

/**
 * Incremental runs over a growing training table.
 *
 * @param store a folder (any Hadoop path) keeping every input file's featurized groups under a key
 *     of the model, the projection and the attribution settings; a later run with the same key
 *     featurizes only the files it has not seen. null: every run featurizes every row
 */
public record IncrementalConfig(String store) {}
