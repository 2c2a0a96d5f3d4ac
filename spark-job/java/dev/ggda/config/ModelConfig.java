package dev.ggda.config;

import java.util.List;

/**
 * @param kind logistic (no hidden layer) or mlp
 * @param hidden hidden layer widths for mlp (ignored for logistic)
 * @param activation relu | tanh | sigmoid
 * @param l2 lambda of the (lambda/2)||theta||^2 term of the training objective, biases included
 * @param load a saved ggda model folder or an MLlib model folder to use instead of training; or
 *     null
 */
public record ModelConfig(
    ModelKind kind, List<Integer> hidden, ActivationKind activation, double l2, String load) {}
