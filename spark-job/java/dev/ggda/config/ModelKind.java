package dev.ggda.config;

public enum ModelKind {
  LOGISTIC,
  MLP
}
