package dev.ggda.config;

/**
 * @param method trak | tracin | if | graddot | gradcos
 * @param projection random projection of gradients
 * @param kernel TRAK kernel: exact | batched | sampled
 * @param hessian influence-function Hessian: exact | cg | projected
 * @param damping delta (IF) or lambda (TRAK) added to the kernel/Hessian diagonal
 * @param target per-example (each target row) or aggregate (one target: the summed loss of the set)
 */
public record AttributeConfig(
    AttributionMethod method,
    ProjectionConfig projection,
    KernelMode kernel,
    HessianMode hessian,
    double damping,
    TargetMode target) {}
