package dev.ggda.config;

/**
 * The cheap per-example signal that orders examples inside a flagged group: high loss or low margin
 * first.
 */
public enum ExampleSignal {
  LOSS,
  MARGIN
}
