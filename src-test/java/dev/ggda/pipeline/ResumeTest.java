package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.cli.Main;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * output.mode resume: a run that dies after a stage (simulated with the test-only
 * ggda.test.failAfterStage switch) leaves the previous output untouched and its staging folder in
 * place; the rerun reuses the completed stages (run.json says which, and that no group was
 * featurized again when featurize had completed) and gives the same scores as an uninterrupted run.
 */
class ResumeTest {
  @TempDir static Path tmp;

  static List<String> sets(Path out, String mode) {
    return List.of(
        "data.train.format=synthetic",
        "data.train.synthetic.n=600",
        "data.train.synthetic.dim=6",
        "data.train.synthetic.classes=3",
        "data.train.synthetic.seed=3",
        "data.targets.format=synthetic",
        "data.targets.synthetic.n=5",
        "data.targets.synthetic.dim=6",
        "data.targets.synthetic.classes=3",
        "data.targets.synthetic.seed=4",
        "data.classes=3",
        "model.kind=logistic",
        "train.epochs=2",
        "train.checkpoints=2",
        "group.method=random",
        "group.size=8",
        "attribute.method=trak",
        "attribute.projection.dim=8",
        "attribute.kernel=batched",
        "output.path=" + out,
        "output.mode=" + mode);
  }

  static int run(Path out, String mode) {
    return Main.execute(EndToEndTest.args("run", sets(out, mode)));
  }

  static Map<String, Double> scores(Path out) {
    Map<String, Double> m = new TreeMap<>();
    for (Row r :
        SparkTestSession.get().read().parquet(out.resolve("scores").toString()).collectAsList()) {
      m.put(r.getAs("target_id") + "/" + r.getAs("group_id"), r.getAs("score"));
    }
    return m;
  }

  static Map<String, String> hashes(Path dir) throws IOException {
    return ResumeTestHashes.of(dir);
  }

  static List<Path> stagingFolders(Path out) throws IOException {
    try (Stream<Path> s = Files.list(out.getParent())) {
      return s.filter(
              p -> p.getFileName().toString().startsWith("." + out.getFileName() + ".staging-"))
          .toList();
    }
  }

  @ParameterizedTest(name = "dies after {0}")
  @ValueSource(strings = {"model", "group", "featurize"})
  void rerunAfterACrashReusesCompletedStagesAndGivesTheSameScores(String stage) throws Exception {
    SparkTestSession.get();
    Path clean = tmp.resolve("clean-" + stage);
    assertEquals(0, run(clean, "overwrite"));
    Map<String, Double> expected = scores(clean);

    // A previous good output at the path the crashing run writes to.
    Path out = tmp.resolve("out-" + stage);
    assertEquals(0, run(out, "overwrite"));
    Map<String, String> before = hashes(out);

    System.setProperty("ggda.test.failAfterStage", stage);
    try {
      assertNotEquals(0, run(out, "resume"));
    } finally {
      System.clearProperty("ggda.test.failAfterStage");
    }
    assertEquals(before, hashes(out), "the previous output is untouched by the crashed run");
    List<Path> staging = stagingFolders(out);
    assertEquals(1, staging.size(), "the crashed run's staging folder stays for the rerun");
    assertFalse(Files.exists(staging.get(0).resolve("_SUCCESS")));

    assertEquals(0, run(out, "resume"));
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    assertTrue(stagingFolders(out).isEmpty(), "the resumed run committed its staging folder");
    assertFalse(
        Files.exists(out.resolve("_stages")),
        "stage markers and checkpoints are not part of the output");
    JsonNode resume = new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("resume");
    assertTrue(resume.get("resumed").asBoolean());
    List<String> reused = new ArrayList<>();
    resume.get("reused_stages").forEach(n -> reused.add(n.asText()));
    List<String> order = List.of("model", "group", "featurize");
    assertEquals(order.subList(0, order.indexOf(stage) + 1), reused);
    long groups =
        new ObjectMapper()
            .readTree(out.resolve("run.json").toFile())
            .get("counts")
            .get("groups")
            .asLong();
    assertEquals(stage.equals("featurize") ? 0 : groups, resume.get("groups_featurized").asLong());

    Map<String, Double> got = scores(out);
    assertEquals(expected.keySet(), got.keySet());
    for (var e : expected.entrySet()) {
      double want = e.getValue();
      assertEquals(want, got.get(e.getKey()), 1e-9 * Math.max(1e-12, Math.abs(want)), e.getKey());
    }
  }

  @Test
  void overwriteStartsAgainAndResumeWithNothingToResumeRunsEverything() throws Exception {
    SparkTestSession.get();
    Path out = tmp.resolve("fresh");
    assertEquals(0, run(out, "resume"));
    JsonNode resume = new ObjectMapper().readTree(out.resolve("run.json").toFile()).get("resume");
    assertFalse(resume.get("resumed").asBoolean());
    assertEquals(0, resume.get("reused_stages").size());
    assertTrue(resume.get("groups_featurized").asLong() > 0);
  }
}
