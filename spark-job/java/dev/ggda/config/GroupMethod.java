package dev.ggda.config;

/** YAML spelling is lower case with hyphens: kmeans-grad. */
public enum GroupMethod {
  RANDOM,
  LABEL,
  COLUMN,
  KMEANS_INPUT,
  KMEANS_REPR,
  KMEANS_GRAD
}
