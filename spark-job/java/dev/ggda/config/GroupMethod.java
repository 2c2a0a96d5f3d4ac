package dev.ggda.config;

/** YAML spelling is lower case with hyphens: kmeans-grad. */
public enum GroupMethod {
  RANDOM,
  LABEL,
  COLUMN,
  KMEANS_INPUT,
  KMEANS_REPR,
  KMEANS_GRAD;

  /** Clusters a feature vector per example (inputs, representations or gradients). */
  public boolean kmeans() {
    return this == KMEANS_INPUT || this == KMEANS_REPR || this == KMEANS_GRAD;
  }
}
