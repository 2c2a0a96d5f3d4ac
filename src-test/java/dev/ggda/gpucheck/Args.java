package dev.ggda.gpucheck;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Command-line options: --name value pairs (a name may repeat) and bare --flags. */
final class Args {
  private final Map<String, List<String>> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  Args(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      String name = args[i].substring(2);
      if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        values.computeIfAbsent(name, n -> new ArrayList<>()).add(args[++i]);
      } else {
        flags.add(name);
      }
    }
  }

  /**
   * The last value given for --name, or the fallback; a null fallback makes the option required.
   */
  String get(String name, String fallback) {
    List<String> v = values.get(name);
    if (v == null && fallback == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v == null ? fallback : v.get(v.size() - 1);
  }

  List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  boolean flag(String name) {
    return flags.contains(name);
  }
}
