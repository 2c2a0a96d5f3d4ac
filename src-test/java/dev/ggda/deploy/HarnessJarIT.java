package dev.ggda.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The experiment harness ships apart from the job: the job jar holds no harness class and no
 * production source refers to one; the harness jar holds them and registers its commands; and the
 * job jar alone answers a harness command with a one-line error saying where the harness is.
 */
class HarnessJarIT {
  static final Path ROOT = Path.of(System.getProperty("ggda.project.dir", "."));

  static List<String> entries(Path jar) throws IOException {
    try (JarFile j = new JarFile(jar.toFile())) {
      return j.stream().map(e -> e.getName()).toList();
    }
  }

  @Test
  void jobJarHoldsNoHarnessAndTheHarnessJarHoldsIt() throws IOException {
    List<String> job = entries(ROOT.resolve("target/ggda-job.jar"));
    assertTrue(job.contains("dev/ggda/cli/Main.class"));
    assertTrue(job.contains("dev/ggda/api/GroupAttribution.class"));
    assertFalse(
        job.stream().anyMatch(e -> e.startsWith("dev/ggda/harness/")),
        "harness classes in the job jar");
    assertFalse(job.contains("META-INF/services/dev.ggda.cli.Experiments"));
    List<String> harness = entries(ROOT.resolve("target/ggda-harness.jar"));
    assertTrue(harness.contains("dev/ggda/harness/FidelityGrid.class"));
    assertTrue(harness.contains("dev/ggda/harness/Benchmark.class"));
    assertTrue(harness.contains("META-INF/services/dev.ggda.cli.Experiments"));
    assertFalse(
        harness.stream()
            .anyMatch(
                e ->
                    e.startsWith("dev/ggda/")
                        && !e.endsWith("/")
                        && !e.startsWith("dev/ggda/harness/")),
        "the harness jar carries only the harness");
  }

  @Test
  void noProductionSourceRefersToTheHarness() throws IOException {
    List<String> offenders = new ArrayList<>();
    try (Stream<Path> files = Files.walk(ROOT.resolve("spark-job/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        if (Files.readString(f, StandardCharsets.UTF_8).contains("dev.ggda.harness")) {
          offenders.add(ROOT.relativize(f).toString());
        }
      }
    }
    assertEquals(List.of(), offenders);
  }

  @Test
  void jobJarAloneSaysWhereTheHarnessIs() throws Exception {
    String classpath =
        ROOT.resolve("target/ggda-job.jar")
            + ":"
            + Files.readString(ROOT.resolve("target/embedded-classpath.txt")).strip();
    Process p =
        new ProcessBuilder(
                "java",
                "-cp",
                classpath,
                "dev.ggda.cli.Main",
                "benchmark",
                "--set",
                "data.train.format=synthetic")
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.exitValue(), out);
    assertTrue(
        out.contains(
            "ggda: error: benchmark: this command is part of the experiment harness (target/ggda-harness.jar)"),
        out);
  }
}
