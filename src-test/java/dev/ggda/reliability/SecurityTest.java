package dev.ggda.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.config.ConfigLoader;
import dev.ggda.io.Redaction;
import dev.ggda.io.RunInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Security: no Java deserialization, YAML that cannot build objects, no credentials in run.json.
 */
class SecurityTest {
  /** Set if YAML loading ever instantiates this class from a tag. */
  public static final class Canary {
    static volatile boolean constructed;

    public Canary() {
      constructed = true;
    }
  }

  @Test
  void noJavaDeserializationInTheJob() throws IOException {
    Pattern forbidden =
        Pattern.compile(
            "ObjectInputStream|\\.readObject\\(|SerializationUtils\\.deserialize|XMLDecoder");
    try (Stream<Path> files = Files.walk(Path.of("spark-job/java"))) {
      List<Path> hits =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(
                  p -> {
                    try {
                      return forbidden.matcher(Files.readString(p)).find();
                    } catch (IOException e) {
                      throw new RuntimeException(e);
                    }
                  })
              .toList();
      assertTrue(hits.isEmpty(), "Java deserialization in " + hits);
    }
  }

  @Test
  void yamlTagsNeverInstantiateClasses() {
    for (String yaml :
        List.of(
            "output: {path: !!dev.ggda.reliability.SecurityTest$Canary []}",
            "output: !!dev.ggda.reliability.SecurityTest$Canary {}",
            "data: {train: {path: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://127.0.0.1:1/\"]]]]}}")) {
      try {
        ConfigLoader.fromYaml(yaml, List.of());
      } catch (RuntimeException expected) {
        // rejected as bad config: fine; what matters is that nothing was built
      }
      assertFalse(Canary.constructed, "YAML built an object from a tag: " + yaml);
    }
  }

  @Test
  void aSecretPassedWithSetIsNotEchoedInTheError() {
    String secret = "SECRETcanary77";
    RuntimeException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            RuntimeException.class,
            () -> ConfigLoader.fromYaml("data: {}", List.of("fs.s3a.secret.key=" + secret)));
    assertTrue(e.getMessage().contains("fs.s3a.secret.key"), e.getMessage());
    assertFalse(e.getMessage().contains(secret), e.getMessage());
  }

  @Test
  void credentialsNeverReachRunJson() throws Exception {
    String secret = "SECRETcanary42";
    String config =
        "{\"data\": {\"train\": {\"path\": \"s3a://AKIAEXAMPLE:"
            + secret
            + "@bucket/train\"}},"
            + " \"hadoop\": {\"fs.s3a.secret.key\": \""
            + secret
            + "\", \"fs.s3a.access.key\": \"AKIAEXAMPLE\"}}";
    RunInfo info = new RunInfo("run", config);
    info.put("note", "reading s3a://AKIAEXAMPLE:" + secret + "@bucket/x");
    String json = info.toJson();
    assertFalse(json.contains(secret), json);
    assertFalse(json.contains("AKIAEXAMPLE"), json);
    var tree = new ObjectMapper().readTree(json);
    assertEquals("s3a://***@bucket/train", tree.at("/config/data/train/path").asText());
    assertEquals("***", tree.at("/config/hadoop/fs.s3a.secret.key").asText());
    assertTrue(Redaction.isSecretKey("spark.hadoop.fs.s3a.secret.key"));
    assertFalse(Redaction.isSecretKey("data.train.path"));
  }
}
