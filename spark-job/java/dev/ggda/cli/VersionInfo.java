package dev.ggda.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** Build versions, from {@code dev/ggda/version.properties} that Maven fills in at build time. */
public final class VersionInfo implements IVersionProvider {
  private static final String RESOURCE = "/dev/ggda/version.properties";
  private static final Properties PROPS = load();

  /** The ggda version, e.g. "0.1.0-SNAPSHOT"; "unknown" when run from unfiltered sources. */
  public static String version() {
    return get("version");
  }

  /** The Spark version ggda was built against (the cluster's may differ). */
  public static String sparkVersion() {
    return get("spark.version");
  }

  /** The ND4J version bundled in the job jar. */
  public static String nd4jVersion() {
    return get("nd4j.version");
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "ggda " + version(),
      "built against Spark " + sparkVersion() + ", ND4J " + nd4jVersion(),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
    };
  }

  private static String get(String key) {
    String value = PROPS.getProperty(key, "unknown");
    // An IDE build that skips filtering leaves the placeholder in place.
    return value.startsWith("${") ? "unknown" : value;
  }

  private static Properties load() {
    Properties props = new Properties();
    try (InputStream in = VersionInfo.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
    return props;
  }
}
