package dev.ggda.config;

/**
 * Where executors run the featurize hot path (forward, backward, per-group sums, projection, kernel
 * sums): {@code auto} takes the GPU Spark assigned to the task when a CUDA device can be opened and
 * the CPU otherwise; {@code cpu} always uses ND4J's CPU backend; {@code cuda} requires a GPU.
 */
public enum ComputeDevice {
  AUTO,
  CPU,
  CUDA
}
