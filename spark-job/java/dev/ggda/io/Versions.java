package dev.ggda.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Versions of ggda and the libraries a run used, for run.json and --version. */
public final class Versions {
  private Versions() {}

  public static String ggda() {
    try (InputStream in = Versions.class.getResourceAsStream("/dev/ggda/version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  public static Map<String, Object> all() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("ggda", ggda());
    v.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
    v.put("scala", scala.util.Properties.versionNumberString());
    v.put("java", System.getProperty("java.version"));
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
}
