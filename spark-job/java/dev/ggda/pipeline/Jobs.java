package dev.ggda.pipeline;

import dev.ggda.config.GgdaConfig;
import java.util.List;

/** Placeholder so the CLI compiles; the pipeline's real Jobs replaces this file at merge. */
public final class Jobs {
  private Jobs() {}

  public static void run(GgdaConfig config) {
    throw new UnsupportedOperationException("wired by the pipeline");
  }

  public static void train(GgdaConfig config) {
    throw new UnsupportedOperationException("wired by the pipeline");
  }

  public static void validate(GgdaConfig config) {
    throw new UnsupportedOperationException("wired by the pipeline");
  }

  public static void demo(String configPathOrNull, List<String> sets, String outDir) {
    throw new UnsupportedOperationException("wired by the pipeline");
  }
}
