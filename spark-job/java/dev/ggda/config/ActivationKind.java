package dev.ggda.config;

public enum ActivationKind {
  RELU,
  TANH,
  SIGMOID
}
