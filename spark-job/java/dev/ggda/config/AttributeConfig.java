package dev.ggda.config;

/**
 * @param method trak | tracin | if | graddot | gradcos
 * @param projection random projection of gradients
 * @param kernel TRAK kernel: exact | batched | sampled | group
 * @param hessian influence-function Hessian: exact | cg | projected | group
 * @param damping delta (IF) or lambda (TRAK) added to the kernel/Hessian diagonal
 * @param target per-example (each target row) or aggregate (one target: the summed loss of the set)
 * @param relativeDamping added to the diagonal as this multiple of the mean eigenvalue (trace /
 *     dim) of the kernel or Hessian being inverted, on top of {@code damping}: scale-free, so one
 *     value suits TRAK's kernel (a sum over n examples) and IF's Hessian (a mean) alike
 */
public record AttributeConfig(
    AttributionMethod method,
    ProjectionConfig projection,
    KernelMode kernel,
    HessianMode hessian,
    double damping,
    TargetMode target,
    double relativeDamping) {

  /** Without relative damping. */
  public AttributeConfig(
      AttributionMethod method,
      ProjectionConfig projection,
      KernelMode kernel,
      HessianMode hessian,
      double damping,
      TargetMode target) {
    this(method, projection, kernel, hessian, damping, target, 0.0);
  }

  /** The same settings with another absolute and relative damping. */
  public AttributeConfig withDamping(double absolute, double relative) {
    return new AttributeConfig(method, projection, kernel, hessian, absolute, target, relative);
  }
}
