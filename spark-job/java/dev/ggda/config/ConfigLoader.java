package dev.ggda.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.ggda.InputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Resolves a run configuration: {@code defaults.yaml}, deep-merged with the user's YAML, then each
 * {@code --set key=value} in order; bound to {@link GgdaConfig} and checked by {@link
 * ConfigValidator}. Every user mistake is an {@link InputException} whose one-line message names
 * the full dotted key and the fix.
 */
public final class ConfigLoader {
  private static final String DEFAULTS = "/dev/ggda/config/defaults.yaml";
  private static final ObjectNode DEFAULT_TREE = readDefaults();
  private static final Set<String> YAML_NULLS = Set.of("null", "Null", "NULL", "~");

  private ConfigLoader() {}

  /**
   * Loads a config file (or only the defaults when {@code yamlPathOrNull} is null) and applies the
   * overrides.
   *
   * @param yamlPathOrNull a local YAML file, or null
   * @param sets {@code key=value} overrides, applied in order; null means none
   */
  public static GgdaConfig load(String yamlPathOrNull, List<String> sets) {
    if (yamlPathOrNull == null) {
      return resolve(null, null, sets);
    }
    return resolve(readFile(yamlPathOrNull), yamlPathOrNull, sets);
  }

  /** Like {@link #load} with the YAML given as text (null or blank: defaults only). */
  public static GgdaConfig fromYaml(String yamlText, List<String> sets) {
    return resolve(yamlText, null, sets);
  }

  /**
   * The defaults alone, with no targets and no data path (the programmatic API starts here and
   * checks the result with {@link ConfigValidator#validateSettings}).
   */
  public static GgdaConfig defaults() {
    ObjectNode merged = DEFAULT_TREE.deepCopy();
    ((ObjectNode) merged.get("data")).putNull("targets");
    return normalize(bind(merged));
  }

  /**
   * The resolved config as pretty-printed JSON with the YAML keys and enum words (for run.json).
   */
  public static String toJson(GgdaConfig config) {
    return write(ConfigMapper.JSON, config);
  }

  /** The resolved config as YAML that {@link #fromYaml} reads back to an equal config. */
  public static String toYaml(GgdaConfig config) {
    return write(ConfigMapper.YAML, config);
  }

  /** The config spelling of an enum constant: {@code GroupMethod.KMEANS_GRAD} is "kmeans-grad". */
  public static String yamlName(Enum<?> value) {
    return ConfigMapper.name(value);
  }

  private static String write(ObjectMapper mapper, GgdaConfig config) {
    try {
      return mapper.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render config: " + e.getOriginalMessage(), e);
    }
  }

  private static GgdaConfig resolve(String yamlText, String source, List<String> sets) {
    ObjectNode overlay = parseUserYaml(yamlText, source);
    for (String set : sets == null ? List.<String>of() : sets) {
      applySet(overlay, set);
    }
    ObjectNode merged = DEFAULT_TREE.deepCopy();
    merge(merged, overlay);
    if (!userGaveTargets(overlay, merged)) {
      ((ObjectNode) merged.get("data")).putNull("targets");
    }
    checkKeys(merged, GgdaConfig.class, "");
    GgdaConfig config = bind(merged);
    ConfigValidator.validate(config);
    return normalize(config);
  }

  // ---- reading

  private static String readFile(String pathText) {
    Path path;
    try {
      path = Path.of(pathText);
    } catch (InvalidPathException e) {
      throw new InputException(
          "config file not found: "
              + pathText
              + " ("
              + e.getReason()
              + "); pass an existing YAML file with --config");
    }
    if (!Files.exists(path)) {
      throw new InputException(
          "config file not found: " + pathText + "; pass an existing YAML file with --config");
    }
    if (Files.isDirectory(path)) {
      throw new InputException(
          "config file " + pathText + " is a directory; pass a YAML file with --config");
    }
    try {
      return Files.readString(path, StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      throw new InputException(
          "config file " + pathText + " is not UTF-8 text; pass a YAML file with --config");
    } catch (IOException e) {
      throw new InputException(
          "config file " + pathText + " cannot be read (" + e + "); check its permissions", e);
    }
  }

  private static ObjectNode readDefaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + DEFAULTS + " (broken build)");
      }
      return (ObjectNode) ConfigMapper.YAML.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + DEFAULTS, e);
    }
  }

  private static ObjectNode parseUserYaml(String text, String source) {
    String where = source == null ? "" : " in " + source;
    if (text == null || text.isBlank()) {
      return ConfigMapper.YAML.createObjectNode();
    }
    JsonNode root;
    try {
      root = ConfigMapper.YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw syntaxError(e, where);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return ConfigMapper.YAML.createObjectNode(); // only comments
    }
    if (!root.isObject()) {
      throw new InputException(
          "config: the top level"
              + where
              + " must be a mapping with keys "
              + String.join(", ", ConfigSchema.keys(GgdaConfig.class).keySet())
              + ", got "
              + render(root));
    }
    return (ObjectNode) root;
  }

  private static InputException syntaxError(JsonProcessingException e, String where) {
    // SnakeYAML's own exception has the precise problem and mark; Jackson's message spans lines.
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null) {
      String context = m.getContext() == null ? "" : " (" + m.getContext() + ")";
      return new InputException(
          String.format(
              "config: YAML syntax error%s at line %d, column %d: %s%s",
              where,
              m.getProblemMark().getLine() + 1,
              m.getProblemMark().getColumn() + 1,
              oneLine(m.getProblem()),
              context),
          e);
    }
    String at =
        e.getLocation() == null
            ? ""
            : String.format(
                " at line %d, column %d",
                e.getLocation().getLineNr(), e.getLocation().getColumnNr());
    String problem = oneLine(e.getOriginalMessage());
    if (problem.startsWith("Duplicate field ")) { // from STRICT_DUPLICATE_DETECTION
      return new InputException(
          "config: duplicate key "
              + problem.substring("Duplicate field ".length())
              + where
              + at
              + "; each key may appear once per section",
          e);
    }
    return new InputException("config: YAML syntax error" + where + at + ": " + problem, e);
  }

  // ---- --set

  private static void applySet(ObjectNode overlay, String set) {
    int eq = set == null ? -1 : set.indexOf('=');
    if (eq <= 0) {
      throw new InputException(
          "config: --set expects KEY=VALUE with a dotted key, e.g. --set train.epochs=20; got '"
              + set
              + "'");
    }
    String key = set.substring(0, eq).trim();
    String raw = set.substring(eq + 1);
    // Messages echo the --set; never its value when the key names a credential
    // (fs.s3a.secret.key=...).
    String shown = dev.ggda.io.Redaction.isSecretKey(key) ? key + "=***" : set;
    String[] parts = key.split("\\.", -1);
    Class<?> section = GgdaConfig.class;
    ObjectNode node = overlay;
    String prefix = "";
    for (int i = 0; i < parts.length; i++) {
      RecordComponent c = ConfigSchema.keys(section).get(parts[i]);
      if (c == null) {
        throw unknownKey(section, prefix, parts[i], " in --set " + shown);
      }
      if (i == parts.length - 1) {
        node.set(parts[i], parseSetValue(raw, c.getType()));
      } else if (!ConfigSchema.isSection(c.getType())) {
        throw new InputException(
            "config: unknown key '"
                + key
                + "' in --set "
                + shown
                + "; "
                + prefix
                + parts[i]
                + " is a value, not a section");
      } else {
        JsonNode child = node.get(parts[i]);
        node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
        section = c.getType();
        prefix += parts[i] + ".";
      }
    }
  }

  /**
   * A YAML flow value ({@code 20}, {@code [256,128]}, {@code null}); text that is not valid YAML is
   * taken literally. String keys take the text literally (a path may hold " #" or look like a
   * number) unless it is quoted or a YAML null.
   */
  private static JsonNode parseSetValue(String raw, Class<?> type) {
    String text = raw.trim();
    boolean literal =
        type == String.class
            && !text.startsWith("'")
            && !text.startsWith("\"")
            && !YAML_NULLS.contains(text);
    if (literal || text.isEmpty()) {
      return TextNode.valueOf(text);
    }
    try {
      JsonNode value = ConfigMapper.YAML.readTree(text);
      return value == null || value.isMissingNode() ? TextNode.valueOf(text) : value;
    } catch (JsonProcessingException e) {
      return TextNode.valueOf(text);
    }
  }

  // ---- merge and key checks

  /**
   * Deep merge: mappings merge key by key, anything else replaces; a null section keeps defaults.
   */
  private static void merge(ObjectNode base, ObjectNode overlay) {
    for (Map.Entry<String, JsonNode> e : overlay.properties()) {
      JsonNode current = base.get(e.getKey());
      JsonNode value = e.getValue();
      if (current != null && current.isObject()) {
        if (value.isObject()) {
          merge((ObjectNode) current, (ObjectNode) value);
          continue;
        }
        if (value.isNull()) {
          continue; // "model:" with every key commented out
        }
      }
      base.set(e.getKey(), value.deepCopy());
    }
  }

  /**
   * Targets exist only when the user wrote a targets section (YAML or --set) that names data: a
   * path, or the synthetic generator. The defaults alone never produce targets.
   */
  private static boolean userGaveTargets(ObjectNode overlay, ObjectNode merged) {
    if (!overlay.path("data").path("targets").isObject()) {
      return false;
    }
    JsonNode targets = merged.path("data").path("targets");
    boolean synthetic = "synthetic".equalsIgnoreCase(targets.path("format").asText("").trim());
    return !targets.path("path").isNull() || synthetic;
  }

  private static void checkKeys(ObjectNode node, Class<?> section, String prefix) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      RecordComponent c = ConfigSchema.keys(section).get(e.getKey());
      if (c == null) {
        throw unknownKey(section, prefix, e.getKey(), "");
      }
      Class<?> type = c.getType();
      JsonNode value = e.getValue();
      if (ConfigSchema.isSection(type) && value.isObject()) {
        checkKeys((ObjectNode) value, type, prefix + e.getKey() + ".");
      } else if (ConfigSchema.isSection(type) && !value.isNull()) {
        throw new InputException(
            "config: "
                + prefix
                + e.getKey()
                + " must be a section with keys "
                + String.join(", ", ConfigSchema.keys(type).keySet())
                + ", got "
                + render(value));
      }
    }
  }

  private static InputException unknownKey(
      Class<?> section, String prefix, String key, String where) {
    String suggestion = ConfigSchema.suggest(section, prefix, key);
    String hint = suggestion == null ? "" : " (did you mean '" + suggestion + "'?)";
    String under =
        prefix.isEmpty()
            ? "valid top-level keys"
            : "valid keys under " + prefix.substring(0, prefix.length() - 1);
    return new InputException(
        "config: unknown key '"
            + prefix
            + key
            + "'"
            + where
            + hint
            + "; "
            + under
            + ": "
            + String.join(", ", ConfigSchema.keys(section).keySet()));
  }

  // ---- binding

  private static GgdaConfig bind(ObjectNode merged) {
    try {
      return ConfigMapper.YAML.treeToValue(merged, GgdaConfig.class);
    } catch (JsonMappingException e) {
      throw bindError(e, merged);
    } catch (JsonProcessingException e) {
      throw new InputException("config: " + oneLine(e.getOriginalMessage()), e);
    }
  }

  /** Turns Jackson's error into "wrong type for a.b.c: expected ..., got ..." using the schema. */
  private static InputException bindError(JsonMappingException e, ObjectNode merged) {
    List<Object> path = new ArrayList<>();
    StringBuilder dotted = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        path.add(ref.getFieldName());
        dotted.append(dotted.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else {
        path.add(ref.getIndex());
        dotted.append('[').append(ref.getIndex()).append(']');
      }
    }
    JsonNode value = lookup(merged, path);
    Type type = ConfigSchema.typeAt(path);
    if (type == null) {
      type = targetType(e);
    }
    if (type instanceof Class<?> c && c.isEnum()) {
      return new InputException(
          "config: "
              + dotted
              + " must be one of "
              + String.join(", ", ConfigMapper.names(c))
              + ", got "
              + render(value),
          e);
    }
    String expected = describe(type);
    if (expected == null || dotted.length() == 0) {
      return new InputException(
          "config: "
              + (dotted.length() == 0 ? "" : dotted + ": ")
              + oneLine(e.getOriginalMessage()),
          e);
    }
    if ((type == int.class || type == Integer.class)
        && value.isIntegralNumber()
        && !value.canConvertToInt()) {
      expected += " up to " + Integer.MAX_VALUE;
    }
    return new InputException(
        "config: wrong type for " + dotted + ": expected " + expected + ", got " + render(value),
        e);
  }

  private static Type targetType(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MismatchedInputException m && m.getTargetType() != null) {
        return m.getTargetType();
      }
      if (t instanceof InputCoercionException c && c.getTargetType() != null) {
        return c.getTargetType();
      }
    }
    return null;
  }

  private static String describe(Type type) {
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return "an integer";
    }
    if (type == double.class
        || type == Double.class
        || type == float.class
        || type == Float.class) {
      return "a number";
    }
    if (type == String.class) {
      return "a string";
    }
    if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
      String element = describe(p.getActualTypeArguments()[0]);
      return element == null
          ? "a list"
          : "a list of " + element.substring(element.indexOf(' ') + 1) + "s";
    }
    if (type instanceof Class<?> c && ConfigSchema.isSection(c)) {
      return "a section";
    }
    return null;
  }

  /** The deepest node along the path (the offending value, or the container that holds it). */
  private static JsonNode lookup(JsonNode root, List<Object> path) {
    JsonNode node = root;
    for (Object step : path) {
      JsonNode next = step instanceof String key ? node.get(key) : node.get((Integer) step);
      if (next == null) {
        break;
      }
      node = next;
    }
    return node;
  }

  private static String render(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "null";
    }
    if (value.isTextual()) {
      return "'" + oneLine(value.asText()) + "'";
    }
    return oneLine(value.toString());
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** Read-only lists, so that nobody downstream changes a resolved config by accident. */
  private static GgdaConfig normalize(GgdaConfig c) {
    ModelConfig m = c.model();
    List<Integer> hidden = m.hidden() == null ? List.of() : List.copyOf(m.hidden());
    GgdaConfig out =
        c.withModel(new ModelConfig(m.kind(), hidden, m.activation(), m.l2(), m.load()));
    EvaluateConfig e = c.evaluate();
    if (e != null) {
      out =
          new GgdaConfig(
              out.data(),
              out.model(),
              out.train(),
              out.group(),
              out.attribute(),
              out.output(),
              new EvaluateConfig(
                  e.metrics() == null ? List.of() : List.copyOf(e.metrics()),
                  e.subsets(),
                  e.fraction(),
                  e.seeds(),
                  e.seedMode(),
                  e.groupSubsets(),
                  e.removalFractions() == null ? List.of() : List.copyOf(e.removalFractions()),
                  e.removalSeeds(),
                  e.looGroups(),
                  e.seed(),
                  e.retrainStore()),
              out.prune(),
              out.noise(),
              out.compute(),
              out.incremental());
    }
    PruneConfig p = out.prune();
    if (p != null) {
      out =
          new GgdaConfig(
              out.data(),
              out.model(),
              out.train(),
              out.group(),
              out.attribute(),
              out.output(),
              out.evaluate(),
              new PruneConfig(
                  p.fraction(),
                  p.threshold(),
                  p.rankBy(),
                  p.validateFractions() == null ? List.of() : List.copyOf(p.validateFractions()),
                  p.validateSeeds(),
                  p.validateBaselines() == null ? List.of() : p.validateBaselines(),
                  p.testFraction()),
              out.noise(),
              out.compute(),
              out.incremental());
    }
    return out;
  }
}
