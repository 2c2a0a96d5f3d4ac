package dev.ggda.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What run.json records (DESIGN.md section 6): the resolved config, versions, seeds, counts and the
 * wall time of every stage. Stages are timed with {@link #stage}, in the order they ran.
 */
public final class RunInfo {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, Object> root = new LinkedHashMap<>();
  private final Map<String, Object> stages = new LinkedHashMap<>();
  private final Map<String, Object> counts = new LinkedHashMap<>();
  private final Map<String, Object> metrics = new LinkedHashMap<>();

  /**
   * @param resolvedConfigJson the resolved configuration as JSON (ConfigLoader.toJson)
   */
  public RunInfo(String command, String resolvedConfigJson) {
    root.put("command", command);
    root.put("started", Instant.now().toString());
    root.put("versions", Versions.all());
    try {
      root.put("config", Redaction.redact(JSON.readTree(resolvedConfigJson)));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("resolved config is not JSON: " + e.getMessage(), e);
    }
    root.put("counts", counts);
    root.put("stage_seconds", stages);
    root.put("metrics", metrics);
  }

  /** Runs {@code body} as stage {@code name}, recording its wall time (also when it throws). */
  public <T> T stage(String name, Supplier<T> body) {
    long t0 = System.nanoTime();
    try {
      return body.get();
    } finally {
      stages.put(name, (System.nanoTime() - t0) / 1e9);
    }
  }

  public void stage(String name, Runnable body) {
    stage(
        name,
        () -> {
          body.run();
          return null;
        });
  }

  public double stageSeconds(String name) {
    Object v = stages.get(name);
    return v == null ? Double.NaN : (Double) v;
  }

  public RunInfo count(String key, Object value) {
    counts.put(key, value);
    return this;
  }

  public RunInfo metric(String key, Object value) {
    metrics.put(key, value);
    return this;
  }

  public RunInfo put(String key, Object value) {
    root.put(key, value);
    return this;
  }

  public Map<String, Object> metrics() {
    return metrics;
  }

  /** A top-level entry put so far (e.g. "incremental"), or null. */
  public Object get(String key) {
    return root.get(key);
  }

  public String toJson() {
    root.put("finished", Instant.now().toString());
    try {
      return JSON.writeValueAsString(Redaction.redact(JSON.valueToTree(root)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("run.json is not serialisable: " + e.getMessage(), e);
    }
  }
}
