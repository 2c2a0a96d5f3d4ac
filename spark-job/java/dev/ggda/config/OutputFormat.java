package dev.ggda.config;

public enum OutputFormat {
  PARQUET,
  CSV
}
