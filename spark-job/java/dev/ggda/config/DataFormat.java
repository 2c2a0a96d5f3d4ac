package dev.ggda.config;

public enum DataFormat {
  PARQUET,
  CSV,
  LIBSVM,
  IDX,
  SYNTHETIC
}
