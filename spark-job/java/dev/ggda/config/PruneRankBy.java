package dev.ggda.config;

/**
 * What `ggda prune` ranks groups by, lowest dropped first: value / size (default, harmful first,
 * does not favour big groups), the summed value, or |value| / size (the groups whose removal
 * changes the validation loss least: useless first, harmful and helpful alike kept).
 */
public enum PruneRankBy {
  VALUE_PER_EXAMPLE,
  VALUE,
  ABS_VALUE_PER_EXAMPLE
}
