package dev.ggda.reliability;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** File hashes of an output folder (shared with the pipeline's resume tests). */
final class ResumeTestAccess {
  private ResumeTestAccess() {}

  static Map<String, String> hashes(Path dir) throws IOException {
    return dev.ggda.pipeline.ResumeTestHashes.of(dir);
  }
}
