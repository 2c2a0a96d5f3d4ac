package dev.ggda.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** SHA-256 of every file under a folder, by relative path: "this output did not change". */
public final class ResumeTestHashes {
  private ResumeTestHashes() {}

  public static Map<String, String> of(Path dir) throws IOException {
    Map<String, String> h = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        try {
          h.put(
              dir.relativize(f).toString(),
              HexFormat.of()
                  .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
        } catch (NoSuchAlgorithmException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return h;
  }
}
