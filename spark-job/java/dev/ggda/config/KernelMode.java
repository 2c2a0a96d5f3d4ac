package dev.ggda.config;

public enum KernelMode {
  EXACT,
  BATCHED,
  SAMPLED
}
