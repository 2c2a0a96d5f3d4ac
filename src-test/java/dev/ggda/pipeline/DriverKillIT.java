package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.testing.SparkTestSession;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver JVM killed (SIGKILL, no cleanup) at a randomly chosen stage of a real `deploy/ggda run`
 * leaves the previous output intact, and `output.mode: resume` then completes the run, reusing the
 * stages that had finished, with the scores of an uninterrupted run.
 *
 * <p>Runs after `package` (it uses the job jar through the launcher): {@code mvn -B verify
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=DriverKillIT}
 */
class DriverKillIT {
  @TempDir static Path tmp;

  /** Stages in order, with the console line each prints once it is complete in staging. */
  static final List<String[]> STAGES =
      List.of(
          new String[] {"model", "ggda: model: train accuracy"},
          new String[] {"group", "ggda: group: "},
          new String[] {"featurize", "ggda: featurize: resumed"},
          new String[] {"featurize", "ggda: featurize: "});

  static List<String> command(Path out, String mode) {
    List<String> cmd =
        new ArrayList<>(List.of("bash", Path.of("deploy/ggda").toAbsolutePath().toString(), "run"));
    for (String s : ResumeTest.sets(out, mode)) {
      cmd.add("--set");
      cmd.add(s);
    }
    // Big enough that every stage takes a moment.
    cmd.addAll(
        List.of("--set", "data.train.synthetic.n=20000", "--set", "attribute.projection.dim=16"));
    return cmd;
  }

  static ProcessBuilder launcher(List<String> cmd) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("GGDA_DRIVER_MEMORY", "2g");
    pb.environment().put("GGDA_OFFHEAP", "2g");
    pb.environment().remove("SPARK_HOME");
    return pb;
  }

  static void runToEnd(Path out, String mode) throws Exception {
    Process p =
        launcher(command(out, mode)).redirectOutput(tmp.resolve("run.log").toFile()).start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "run timed out");
    assertEquals(0, p.exitValue(), "run failed: " + Files.readString(tmp.resolve("run.log")));
  }

  @Test
  void killedDriverLosesNothingAndResumeCompletesTheRun() throws Exception {
    Path clean = tmp.resolve("clean");
    runToEnd(clean, "overwrite");
    Path out = tmp.resolve("out");
    runToEnd(out, "overwrite");
    Map<String, String> before = ResumeTest.hashes(out);

    long seed = System.nanoTime();
    int at = new Random(seed).nextInt(3);
    String stage = new String[] {"model", "group", "featurize"}[at];
    String marker =
        new String[] {"ggda: model: train accuracy", "ggda: group: ", "ggda: featurize: "}[at];
    System.out.println(
        "DriverKillIT: killing the driver after stage " + stage + " (seed " + seed + ")");
    Process p = launcher(command(out, "resume")).start();
    boolean seen = false;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith(marker)
            && !line.startsWith("ggda: featurize: TRAK")
            && !line.contains("targets in")) {
          seen = true;
          break;
        }
      }
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(1, TimeUnit.MINUTES);
    }
    assertTrue(seen, "the run never reached stage " + stage);
    assertEquals(
        before, ResumeTest.hashes(out), "the killed run left the previous output untouched");
    assertEquals(
        1,
        ResumeTest.stagingFolders(out).size(),
        "the killed run's staging folder is there for the rerun");

    runToEnd(out, "resume");
    JsonNode resume = new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("resume");
    assertTrue(resume.get("resumed").asBoolean());
    List<String> reused = new ArrayList<>();
    resume.get("reused_stages").forEach(n -> reused.add(n.asText()));
    List<String> order = List.of("model", "group", "featurize");
    // The kill lands at or after the marker line: at least the stages up to it were reused.
    assertTrue(
        reused.containsAll(order.subList(0, at + 1)),
        "reused " + reused + " after a kill at " + stage);
    if (stage.equals("featurize")) {
      assertEquals(
          0, resume.get("groups_featurized").asLong(), "featurized groups were not recomputed");
    }
    SparkTestSession.get();
    Map<String, Double> expected = ResumeTest.scores(clean);
    Map<String, Double> got = ResumeTest.scores(out);
    assertEquals(expected.keySet(), got.keySet());
    for (var e : expected.entrySet()) {
      assertEquals(
          e.getValue(),
          got.get(e.getKey()),
          1e-9 * Math.max(1e-12, Math.abs(e.getValue())),
          e.getKey());
    }
  }
}
