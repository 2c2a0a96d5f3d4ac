package dev.ggda.spark;

/** Parses {@link FaultInjection}'s test-only spec, e.g. {@code featurize:0,2;score:1}. */
public final class FaultInjectionSpec {
  private FaultInjectionSpec() {}

  /** Whether {@code spec} names partition {@code partition} of stage {@code tag}. */
  public static boolean selects(String spec, String tag, int partition) {
    for (String part : spec.split(";")) {
      String[] kv = part.trim().split(":", 2);
      if (kv.length == 2 && kv[0].trim().equals(tag)) {
        for (String p : kv[1].split(",")) {
          if (!p.isBlank() && Integer.parseInt(p.trim()) == partition) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
