package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.io.Versions;
import dev.ggda.testing.CliCapture;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * run.json says what actually ran: the kernel and damping in effect and the compute device, not
 * only the config.
 */
class RunRecordTest {
  @TempDir Path tmp;

  private JsonNode attribute(String name, String... extra) throws Exception {
    SparkTestSession.get();
    List<String> sets =
        new ArrayList<>(
            List.of(
                "data.train.format=synthetic",
                "data.train.synthetic.n=60",
                "data.train.synthetic.dim=5",
                "data.train.synthetic.classes=3",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=4",
                "data.targets.synthetic.dim=5",
                "data.targets.synthetic.classes=3",
                "model.kind=logistic",
                "train.epochs=2",
                "attribute.projection.dim=8",
                "output.path=" + tmp.resolve(name)));
    sets.addAll(List.of(extra));
    StringBuilder console = new StringBuilder();
    assertEquals(0, CliCapture.run("attribute", sets, console), console::toString);
    return new ObjectMapper().readTree(tmp.resolve(name).resolve("run.json").toFile());
  }

  @Test
  void perExampleTrakRecordsTheExactKernelAndTheDampingOfEverySolve() throws Exception {
    JsonNode run =
        attribute(
            "trak",
            "group.size=1",
            "attribute.method=trak",
            "attribute.kernel=sampled",
            "train.members=2",
            "attribute.damping=2.5",
            "attribute.relative_damping=0.5");
    JsonNode a = run.path("attribution");
    assertEquals(
        "sampled", run.at("/config/attribute/kernel").asText(), "the config says what was asked");
    assertEquals("exact", a.path("kernel").asText(), a::toPrettyString);
    assertEquals("sampled", a.path("kernel_configured").asText());
    assertEquals("rademacher", a.path("projection").asText());
    assertEquals(8, a.path("projection_dim").asInt());
    JsonNode solves = a.path("solves");
    assertEquals(2, solves.size(), "one kernel per ensemble member");
    double largest = 0;
    for (JsonNode s : solves) {
      double requested = 2.5 + 0.5 * s.path("mean_eigenvalue").asDouble();
      assertEquals(requested, s.path("damping_requested").asDouble(), 1e-9 * requested);
      assertTrue(s.path("damping").asDouble() >= requested, s::toPrettyString);
      largest = Math.max(largest, s.path("damping").asDouble());
    }
    assertEquals(largest, a.path("damping").asDouble(), 0);
    assertEquals(largest, run.path("damping_used").asDouble(), 0);
  }

  @Test
  void methodsThatInvertNothingRecordNoDampingAndEveryRunItsDevice() throws Exception {
    JsonNode run =
        attribute("tracin", "group.size=4", "attribute.method=tracin", "attribute.damping=7");
    JsonNode a = run.path("attribution");
    assertEquals("tracin", a.path("method").asText());
    assertFalse(a.has("damping"), a::toPrettyString);
    assertFalse(run.has("damping_used"), "no solve, no damping");
    assertEquals(0, a.path("solves").size());
    assertEquals("auto", run.at("/compute/requested").asText());
    JsonNode driver = run.at("/compute/driver");
    assertEquals(
        "cpu: compute.device auto: no GPU assigned to the task (spark.task.resource.gpu.amount)",
        driver.path("featurize").asText(),
        driver::toPrettyString);
    assertEquals(Versions.all().get("nd4j_backend"), driver.path("nd4j_backend").asText());
    assertEquals("openblas", driver.path("blas").asText());
    assertEquals(
        System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto"),
        driver.path("openblas_coretype").asText());
    int tasks = 0;
    for (JsonNode e : run.at("/compute/executors")) {
      assertTrue(
          e.path("featurize").asText().startsWith("cpu: compute.device auto: no GPU assigned"),
          e::toPrettyString);
      tasks += e.path("tasks").asInt();
    }
    assertEquals(SparkTestSession.get().sparkContext().defaultParallelism(), tasks);
  }
}
