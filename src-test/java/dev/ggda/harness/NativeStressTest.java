package dev.ggda.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.testing.CliCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ggda stress-native` at a tiny size: real child JVMs, their outcomes and scores compared. */
class NativeStressTest {
  @TempDir Path tmp;

  @Test
  void roundsRunInChildJvmsWhoseScoresAgree() throws Exception {
    // Relative, as in the shipped config: the child JVMs must read it from the parent's folder.
    Path out = Path.of("").toAbsolutePath().relativize(tmp.resolve("stress"));
    StringBuilder console = new StringBuilder();
    int code =
        CliCapture.run(
            "stress-native",
            List.of(
                "data.train.format=synthetic",
                "data.train.synthetic.n=300",
                "data.train.synthetic.dim=12",
                "data.train.synthetic.classes=3",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=6",
                "data.targets.synthetic.dim=12",
                "data.targets.synthetic.classes=3",
                "model.kind=logistic",
                "train.epochs=2",
                "train.checkpoints=3",
                "group.method=kmeans-grad",
                "group.size=16",
                "attribute.method=if",
                "attribute.hessian=projected",
                "attribute.projection.dim=24",
                "output.path=" + out),
            console,
            "--rounds",
            "2",
            "--iterations",
            "2",
            "--gc-interval-ms",
            "20");
    assertEquals(0, code, console::toString);
    JsonNode summary = new ObjectMapper().readTree(out.resolve("stress-native.json").toFile());
    assertEquals(2, summary.path("rounds").asInt());
    assertEquals(0, summary.path("crashes").asInt());
    assertEquals(0, summary.path("not_ok").asInt());
    for (JsonNode r : summary.path("results")) {
      assertEquals("ok", r.path("outcome").asText(), r::toPrettyString);
    }
    String child = Files.readString(out.resolve("round-001/child.log"));
    assertTrue(child.contains("projection cache 1 MB (one P), a full GC every 20 ms"), child);
    assertTrue(child.contains("iteration 2/2 done;"), child);
    // Both methods' scores were kept for the comparison across rounds.
    assertTrue(
        Files.size(out.resolve("round-000/scores-0.bin")) > 4
            && Files.exists(out.resolve("round-000/scores-1.bin")));
  }

  @Test
  void outcomesAndAgreement() {
    assertEquals("ok", NativeStress.outcome(0, false, false));
    assertEquals(
        "crash",
        NativeStress.outcome(134, false, false),
        "SIGABRT after the JVM's fatal error handler");
    assertEquals(
        "crash",
        NativeStress.outcome(1, true, false),
        "an hs_err log is a crash whatever the exit code");
    assertEquals("mismatch", NativeStress.outcome(1, false, true));
    assertEquals("failed", NativeStress.outcome(1, false, false));
    double[] a = {1.0, -2.0, 0.5};
    assertTrue(
        NativeStress.agrees(a, new double[] {1.0 + 1e-9, -2.0, 0.5}), "reduction-order noise");
    assertFalse(NativeStress.agrees(a, new double[] {1.0, -2.0, 0.5 + 1e-4}), "a changed score");
    assertFalse(NativeStress.agrees(a, new double[] {1.0, -2.0}));
    assertFalse(NativeStress.agrees(a, new double[] {1.0, Double.NaN, 0.5}));
  }
}
