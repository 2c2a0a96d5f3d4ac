package dev.ggda.config;

/**
 * Where the data lives. {@code targets} may be null (no attribution targets, e.g. for `ggda
 * train`). {@code classes} may be null, in which case it is taken from the data (max label + 1).
 */
public record DataConfig(DataSource train, DataSource targets, Integer classes) {}
