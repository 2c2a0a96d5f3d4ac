package dev.ggda.config;

public enum AttributionMethod {
  TRAK,
  TRACIN,
  IF,
  GRADDOT,
  GRADCOS
}
