package dev.ggda.config;

import java.util.List;

/**
 * The cells of an efficiency-fidelity table (`ggda evaluate --methods ... --group-sizes ...`): each
 * method runs with each projection and damping (TRAK also with each kernel, IF with each Hessian),
 * on each grouping at each group size (size 1, the per-example baseline, first).
 */
public record GridSpec(
    List<AttributionMethod> methods,
    List<ProjectionConfig> projections,
    List<KernelMode> kernels,
    List<HessianMode> hessians,
    List<Damping> dampings,
    List<GroupMethod> groupings,
    List<Integer> sizes) {
  public GridSpec {
    methods = List.copyOf(methods);
    projections = List.copyOf(projections);
    kernels = List.copyOf(kernels);
    hessians = List.copyOf(hessians);
    dampings = List.copyOf(dampings);
    groupings = List.copyOf(groupings);
    sizes = List.copyOf(sizes);
  }
}
