package dev.ggda.config;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The config's key structure, read off the records themselves so that it cannot drift from them: a
 * record-typed component is a section, anything else a leaf; YAML keys are the snake_case of the
 * component names, in declaration order.
 */
final class ConfigSchema {
  private static final PropertyNamingStrategies.NamingBase SNAKE =
      (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

  private static final ClassValue<Map<String, RecordComponent>> KEYS =
      new ClassValue<>() {
        @Override
        protected Map<String, RecordComponent> computeValue(Class<?> type) {
          Map<String, RecordComponent> keys = new LinkedHashMap<>();
          for (RecordComponent c : type.getRecordComponents()) {
            keys.put(SNAKE.translate(c.getName()), c);
          }
          return Collections.unmodifiableMap(keys);
        }
      };

  private ConfigSchema() {}

  /** YAML key to component for a section (record) type, in declaration order. */
  static Map<String, RecordComponent> keys(Class<?> section) {
    return KEYS.get(section);
  }

  static boolean isSection(Class<?> type) {
    return type.isRecord();
  }

  /**
   * The declared type at a dotted path of keys and list indices (null as an index), or null when
   * the path leaves the schema.
   */
  static Type typeAt(List<Object> path) {
    Type type = GgdaConfig.class;
    for (Object step : path) {
      if (step instanceof String key && type instanceof Class<?> c && isSection(c)) {
        RecordComponent rc = keys(c).get(key);
        if (rc == null) {
          return null;
        }
        type = rc.getGenericType();
      } else if (!(step instanceof String) && type instanceof ParameterizedType p) {
        type = p.getActualTypeArguments()[0]; // List<E>: the element type
      } else {
        return null;
      }
    }
    return type;
  }

  /**
   * A hint for an unknown key: the same key in another section (train.l2 -> model.l2), else the
   * closest key of this section by spelling (epoch -> epochs, batchSize -> batch_size), else null.
   */
  static String suggest(Class<?> section, String prefix, String key) {
    List<String> elsewhere = new ArrayList<>();
    collectPaths(GgdaConfig.class, "", key, elsewhere);
    if (elsewhere.size() == 1) {
      return elsewhere.get(0);
    }
    String wanted = squash(key);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : keys(section).keySet()) {
      int d =
          squash(candidate).equals(wanted)
              ? 0
              : editDistance(key.toLowerCase(Locale.ROOT), candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    // A third of the length, at least 1 and at most 3 edits: close enough to be a typo.
    int allowed = Math.max(1, Math.min(3, key.length() / 3));
    return bestDistance <= allowed ? prefix + best : null;
  }

  private static void collectPaths(Class<?> section, String prefix, String key, List<String> out) {
    for (Map.Entry<String, RecordComponent> e : keys(section).entrySet()) {
      if (e.getKey().equals(key)) {
        out.add(prefix + key);
      }
      if (isSection(e.getValue().getType())) {
        collectPaths(e.getValue().getType(), prefix + e.getKey() + ".", key, out);
      }
    }
  }

  /** Case, hyphens and underscores do not distinguish keys for suggestions. */
  private static String squash(String s) {
    return s.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
  }

  /** Optimal-string-alignment distance: edits and adjacent transpositions (paht -> path) cost 1. */
  private static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      for (int j = 0; j <= b.length(); j++) {
        if (i == 0 || j == 0) {
          d[i][j] = i + j;
          continue;
        }
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j], d[i][j - 1]) + 1);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
