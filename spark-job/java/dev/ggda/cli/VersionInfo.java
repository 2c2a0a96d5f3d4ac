package dev.ggda.cli;

import dev.ggda.io.Versions;
import picocli.CommandLine.IVersionProvider;

/** What --version prints. */
public final class VersionInfo implements IVersionProvider {
  /** The ggda version, e.g. "0.1.0-SNAPSHOT". */
  public static String version() {
    return Versions.ggda();
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "ggda " + Versions.ggda(),
      "built against Spark " + Versions.builtSpark() + ", ND4J " + Versions.nd4j(),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
    };
  }
}
