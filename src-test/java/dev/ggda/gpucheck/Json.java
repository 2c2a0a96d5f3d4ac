package dev.ggda.gpucheck;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal JSON writer for the check's report (maps, lists, strings, numbers, booleans, double[]).
 */
final class Json {
  private Json() {}

  static String write(Object v) {
    StringBuilder b = new StringBuilder();
    write(v, b, "");
    return b.toString();
  }

  private static void write(Object v, StringBuilder b, String indent) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof Map<?, ?> m) {
      b.append("{");
      String inner = indent + "  ";
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.append(first ? "\n" : ",\n").append(inner);
        string(String.valueOf(e.getKey()), b);
        b.append(": ");
        write(e.getValue(), b, inner);
        first = false;
      }
      b.append(first ? "}" : "\n" + indent + "}");
    } else if (v instanceof List<?> l) {
      b.append("[");
      String inner = indent + "  ";
      for (int i = 0; i < l.size(); i++) {
        b.append(i == 0 ? "\n" : ",\n").append(inner);
        write(l.get(i), b, inner);
      }
      b.append(l.isEmpty() ? "]" : "\n" + indent + "]");
    } else if (v instanceof double[] d) {
      b.append("[");
      for (int i = 0; i < d.length; i++) {
        b.append(i == 0 ? "" : ", ");
        number(d[i], b);
      }
      b.append("]");
    } else if (v instanceof Double || v instanceof Float) {
      number(((Number) v).doubleValue(), b);
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else {
      string(v.toString(), b);
    }
  }

  private static void number(double d, StringBuilder b) {
    b.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "null");
  }

  private static void string(String s, StringBuilder b) {
    b.append('"');
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
