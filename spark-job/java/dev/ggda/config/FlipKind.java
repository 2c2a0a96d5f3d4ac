package dev.ggda.config;

/**
 * How injected label noise picks the wrong class: uniformly among the other classes, or the next
 * class (label + 1 mod classes, the "pair flip" of the noisy-label literature), which a model
 * learns as a systematic confusion and which hurts accuracy more at the same rate.
 */
public enum FlipKind {
  UNIFORM,
  PAIR
}
