package dev.ggda.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Versions of ggda and what it was built against ({@code dev/ggda/version.properties}, filled in by
 * Maven), plus what a run actually uses, for run.json and --version.
 */
public final class Versions {
  private static final String RESOURCE = "/dev/ggda/version.properties";
  private static final Properties PROPS = load();

  private Versions() {}

  /** The ggda version, e.g. "0.1.0-SNAPSHOT"; "unknown" when run from unfiltered sources. */
  public static String ggda() {
    return get("version");
  }

  /** The Spark version ggda was built against (the cluster's may differ). */
  public static String builtSpark() {
    return get("spark.version");
  }

  /** The ND4J version bundled in the job jar. */
  public static String nd4j() {
    return get("nd4j.version");
  }

  /** What a run uses: ggda, the running Spark and Scala, Java, ND4J and its backend. */
  public static Map<String, Object> all() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("ggda", ggda());
    v.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
    v.put("scala", scala.util.Properties.versionNumberString());
    v.put("java", System.getProperty("java.version"));
    v.put("nd4j", nd4j());
    v.put("nd4j_backend", nd4jBackend());
    return v;
  }

  private static String nd4jBackend() {
    try {
      return org.nd4j.linalg.factory.Nd4j.getBackend().getClass().getSimpleName();
    } catch (Throwable t) {
      return "unavailable: " + t.getMessage();
    }
  }

  private static String get(String key) {
    String value = PROPS.getProperty(key, "unknown");
    // An IDE build that skips filtering leaves the placeholder in place.
    return value.startsWith("${") ? "unknown" : value;
  }

  private static Properties load() {
    Properties props = new Properties();
    try (InputStream in = Versions.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
    return props;
  }
}
