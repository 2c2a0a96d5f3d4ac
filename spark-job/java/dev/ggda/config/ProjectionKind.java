package dev.ggda.config;

public enum ProjectionKind {
  RADEMACHER,
  GAUSSIAN,
  FACTORED,
  NONE
}
