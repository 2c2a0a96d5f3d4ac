package dev.ggda.config;

/** Random projection of gradients (DESIGN.md section 4): kind, output dimension k, seed. */
public record ProjectionConfig(ProjectionKind kind, int dim, long seed) {}
