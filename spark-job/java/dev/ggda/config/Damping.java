package dev.ggda.config;

/**
 * A damping of the kernel or Hessian diagonal: absolute (attribute.damping) plus relative to the
 * mean eigenvalue (attribute.relative_damping).
 */
public record Damping(double absolute, double relative) {
  public static Damping of(AttributeConfig a) {
    return new Damping(a.damping(), a.relativeDamping());
  }

  /** "3000" (absolute), "0.5x" (relative); for a configured pair, "3000+0.5x". */
  public String label() {
    if (relative == 0) {
      return fmt(absolute);
    }
    return absolute == 0 ? fmt(relative) + "x" : fmt(absolute) + "+" + fmt(relative) + "x";
  }

  private static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
