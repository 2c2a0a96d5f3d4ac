package dev.ggda.config;

/** What `ggda prune` ranks groups by: value / size (default, does not favour big groups) or the summed value. */
public enum PruneRankBy {
  VALUE_PER_EXAMPLE,
  VALUE
}
