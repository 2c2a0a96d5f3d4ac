package dev.ggda.config;

public enum HessianMode {
  EXACT,
  CG,
  PROJECTED
}
