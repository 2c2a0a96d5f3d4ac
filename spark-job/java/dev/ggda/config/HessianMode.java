package dev.ggda.config;

/** The Hessian influence functions invert. */
public enum HessianMode {
  /** The dense Gauss-Newton Hessian in parameter space, summed over every example. */
  EXACT,
  /** The same Hessian applied by conjugate gradients, never formed. */
  CG,
  /** The Gauss-Newton Hessian in the projected space. */
  PROJECTED,
  /**
   * The batched empirical Fisher of the group gradients featurize already forms: parameter space
   * when it fits, projected space otherwise.
   */
  GROUP
}
