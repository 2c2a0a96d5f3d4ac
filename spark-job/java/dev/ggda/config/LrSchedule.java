package dev.ggda.config;

public enum LrSchedule {
  CONSTANT,
  LINEAR
}
