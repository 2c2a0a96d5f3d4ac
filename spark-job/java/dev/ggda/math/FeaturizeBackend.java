package dev.ggda.math;

import java.util.List;

/**
 * The featurize hot path of a block of whole groups (forward, backward, per-group sums, projection,
 * kernel sums) behind one call, so that it can run on the CPU ({@link Featurizer#CPU}, ND4J) or on
 * a GPU ({@code dev.ggda.cuda.CudaFeaturizer}). Every backend returns the same {@link
 * Featurizer.Output} for the same input, up to float32 rounding; inputs and outputs are plain
 * arrays, so nothing backend-specific leaves the call.
 */
public interface FeaturizeBackend {
  Featurizer.Output featurize(
      Architecture arch, List<Featurizer.Slot> slots, Featurizer.Spec spec, Featurizer.Rows rows);

  /** What runs the work, for logs: {@code cpu}, or {@code cuda:0 (NVIDIA H200)}. */
  String device();
}
