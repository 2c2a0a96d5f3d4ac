package dev.ggda.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ggda.report.ReportData.RunSummary;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Reads run.json (written by {@link dev.ggda.io.RunInfo}) into the report's run summary. */
public final class RunJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Root keys shown in their own place; every other root key is listed under "run". */
  private static final Set<String> PLACED =
      Set.of(
          "command",
          "started",
          "finished",
          "config",
          "versions",
          "counts",
          "metrics",
          "stage_seconds");

  private RunJson() {}

  /**
   * @throws IllegalArgumentException when the text is not a JSON object
   */
  public static RunSummary parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("run.json is not JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("run.json is not a JSON object");
    }
    Map<String, Map<String, String>> facts = new LinkedHashMap<>();
    for (String section : new String[] {"counts", "metrics", "versions"}) {
      Map<String, String> flat = new LinkedHashMap<>();
      flatten("", root.path(section), flat);
      if (!flat.isEmpty()) {
        facts.put(section, flat);
      }
    }
    Map<String, String> other = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!PLACED.contains(e.getKey())) {
        flatten(e.getKey(), e.getValue(), other);
      }
    }
    if (!other.isEmpty()) {
      facts.put("run", other);
    }
    Map<String, Double> stages = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("stage_seconds").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      stages.put(e.getKey(), e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN);
    }
    String config;
    try {
      config = root.has("config") ? JSON.writeValueAsString(root.get("config")) : "";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return new RunSummary(
        root.path("command").asText(""),
        root.path("started").asText(""),
        root.path("finished").asText(""),
        config,
        facts,
        stages);
  }

  /**
   * Nested objects become dotted names ("train.accuracy"); arrays and scalars print as JSON text.
   */
  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
      }
    } else if (!node.isMissingNode()) {
      out.put(prefix, node.isValueNode() ? node.asText() : node.toString());
    }
  }
}
