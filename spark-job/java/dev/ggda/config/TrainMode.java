package dev.ggda.config;

public enum TrainMode {
  AUTO,
  LOCAL,
  DISTRIBUTED
}
