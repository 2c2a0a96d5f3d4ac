package dev.ggda.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.config.SyntheticSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.function.Executable;

/** Shared helpers for the data tests. */
final class DataFixtures {
  private DataFixtures() {}

  /** A source with the config defaults (id_col id, label_col label, features_col features). */
  static DataSource source(String path, DataFormat format) {
    return new DataSource(path, format, "id", "label", "features", null, null, null, null);
  }

  static DataSource withGroup(DataSource s, String groupCol) {
    return new DataSource(
        s.path(),
        s.format(),
        s.idCol(),
        s.labelCol(),
        s.featuresCol(),
        groupCol,
        s.labelsPath(),
        s.limit(),
        s.synthetic());
  }

  static DataSource withLimit(DataSource s, long limit) {
    return new DataSource(
        s.path(),
        s.format(),
        s.idCol(),
        s.labelCol(),
        s.featuresCol(),
        s.groupCol(),
        s.labelsPath(),
        limit,
        s.synthetic());
  }

  static DataSource withLabelsPath(DataSource s, String labels) {
    return new DataSource(
        s.path(),
        s.format(),
        s.idCol(),
        s.labelCol(),
        s.featuresCol(),
        s.groupCol(),
        labels,
        s.limit(),
        s.synthetic());
  }

  static DataSource withFeatures(DataSource s, String featuresCol) {
    return new DataSource(
        s.path(),
        s.format(),
        s.idCol(),
        s.labelCol(),
        featuresCol,
        s.groupCol(),
        s.labelsPath(),
        s.limit(),
        s.synthetic());
  }

  static DataSource synthetic(SyntheticSpec spec) {
    return new DataSource(
        null, DataFormat.SYNTHETIC, "id", "label", "features", null, null, null, spec);
  }

  static Path write(Path dir, String name, String text) {
    try {
      Path p = dir.resolve(name);
      Files.createDirectories(p.getParent());
      Files.writeString(p, text);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Asserts an InputException with a one-line message containing every fragment. */
  static InputException assertInputError(Executable action, String... fragments) {
    InputException e = assertThrows(InputException.class, action);
    String m = e.getMessage();
    assertFalse(m.contains("\n"), () -> "message must be one line: " + m);
    for (String f : fragments) {
      assertTrue(m.contains(f), () -> "message lacks '" + f + "': " + m);
    }
    return e;
  }

  /** example_id -> "label:features" of a local table, for comparing loads. */
  static Map<Long, String> contentById(LocalData d) {
    Map<Long, String> m = new TreeMap<>();
    for (int r = 0; r < d.size(); r++) {
      m.put(d.ids()[r], d.labels()[r] + ":" + java.util.Arrays.toString(d.row(r)));
    }
    return m;
  }

  static List<String> lines(String... l) {
    return List.of(l);
  }
}
