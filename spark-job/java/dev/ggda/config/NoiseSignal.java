package dev.ggda.config;

/**
 * How `ggda detect-noise` scores groups: their self-influence, or their harm to the (clean)
 * targets.
 */
public enum NoiseSignal {
  SELF_INFLUENCE,
  VALIDATION
}
