package dev.ggda.math;

/** Hidden-layer nonlinearity. The output layer is always linear (logits). */
public enum Activation {
  RELU,
  TANH,
  SIGMOID
}
