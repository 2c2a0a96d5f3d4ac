package dev.ggda.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** conf/README.md documents every key of defaults.yaml, with its default, and nothing else. */
class ConfReferenceTest {
  static final Path ROOT = Path.of(System.getProperty("ggda.project.dir", "."));
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Leaf keys of defaults.yaml (dotted paths) and their default values. */
  static Map<String, JsonNode> defaults() throws IOException {
    JsonNode tree =
        YAML.readTree(ROOT.resolve("spark-job/resources/dev/ggda/config/defaults.yaml").toFile());
    Map<String, JsonNode> leaves = new LinkedHashMap<>();
    collect("", tree, leaves);
    return leaves;
  }

  private static void collect(String prefix, JsonNode node, Map<String, JsonNode> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isObject()) {
        collect(prefix + e.getKey() + ".", e.getValue(), out);
      } else {
        out.put(prefix + e.getKey(), e.getValue());
      }
    }
  }

  /** A documented row: key, type, default text, meaning. */
  record Row(String key, String type, String defaultText, String meaning) {}

  /** The rows of the "Job configuration keys" table. */
  static List<Row> documented() throws IOException {
    List<String> lines = Files.readAllLines(ROOT.resolve("conf/README.md"));
    int start = lines.indexOf("## Job configuration keys");
    assertTrue(start >= 0, "conf/README.md has no '## Job configuration keys' section");
    List<Row> rows = new ArrayList<>();
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      if (!line.startsWith("| `")) {
        continue;
      }
      // Cells split on pipes that are not escaped (enum types are written a \| b).
      String[] cells = line.substring(1, line.length() - 1).split("(?<!\\\\)\\|");
      assertEquals(4, cells.length, () -> "row needs key | type | default | meaning: " + line);
      rows.add(new Row(unquote(cells[0]), cells[1].strip(), unquote(cells[2]), cells[3].strip()));
    }
    return rows;
  }

  private static String unquote(String cell) {
    String s = cell.strip();
    return s.startsWith("`") && s.endsWith("`") ? s.substring(1, s.length() - 1) : s;
  }

  @Test
  void everyKeyIsDocumentedOnceAndEveryDocumentedKeyExists() throws IOException {
    Map<String, JsonNode> defaults = defaults();
    List<Row> rows = documented();
    TreeSet<String> documentedKeys = new TreeSet<>();
    for (Row row : rows) {
      assertTrue(documentedKeys.add(row.key()), "documented twice: " + row.key());
    }
    TreeSet<String> missing = new TreeSet<>(defaults.keySet());
    missing.removeAll(documentedKeys);
    TreeSet<String> unknown = new TreeSet<>(documentedKeys);
    unknown.removeAll(defaults.keySet());
    assertTrue(missing.isEmpty(), "keys of defaults.yaml missing from conf/README.md: " + missing);
    assertTrue(unknown.isEmpty(), "conf/README.md documents keys that do not exist: " + unknown);
    assertTrue(rows.size() >= 50, "the table was not found whole: " + rows.size() + " rows");
  }

  @Test
  void documentedDefaultsAreTheRealOnesAndEveryRowSaysWhatItIs() throws IOException {
    Map<String, JsonNode> defaults = defaults();
    for (Row row : documented()) {
      JsonNode actual = defaults.get(row.key());
      if (actual == null) {
        continue; // reported by the other test
      }
      JsonNode written = YAML.readTree(row.defaultText());
      JsonNode asWritten = written == null || written.isMissingNode() ? YAML.nullNode() : written;
      assertEquals(
          actual,
          asWritten,
          () ->
              row.key()
                  + ": documented default "
                  + row.defaultText()
                  + ", defaults.yaml has "
                  + actual);
      assertFalse(row.type().isBlank(), row.key() + " has no type");
      assertFalse(row.meaning().isBlank(), row.key() + " has no meaning");
    }
  }

  @Test
  void readmeLinksTheReference() throws IOException {
    assertTrue(
        Files.readString(ROOT.resolve("README.md")).contains("(conf/README.md)"),
        "README.md should link conf/README.md");
  }
}
