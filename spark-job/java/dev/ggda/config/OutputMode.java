package dev.ggda.config;

public enum OutputMode {
  ERROR,
  OVERWRITE,
  RESUME
}
