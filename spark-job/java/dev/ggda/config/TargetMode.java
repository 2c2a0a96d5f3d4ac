package dev.ggda.config;

public enum TargetMode {
  PER_EXAMPLE,
  AGGREGATE
}
