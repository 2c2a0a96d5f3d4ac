package dev.ggda.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark harness on a tiny problem: its JSON holds the FLOP, throughput and memory figures,
 * consistently.
 */
class BenchmarkTest {
  @Test
  void benchmarkJsonHasConsistentFigures(@TempDir Path dir) throws Exception {
    SparkTestSession.get();
    GgdaConfig config =
        ConfigLoader.fromYaml(
            "",
            List.of(
                "data.train.format=synthetic",
                "data.train.synthetic.n=600",
                "data.train.synthetic.dim=8",
                "data.train.synthetic.classes=3",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=20",
                "data.targets.synthetic.dim=8",
                "data.targets.synthetic.classes=3",
                "model.kind=mlp",
                "model.hidden=[6]",
                "train.epochs=1",
                "train.checkpoints=1",
                "group.method=random",
                "attribute.method=trak",
                "attribute.kernel=batched",
                "attribute.projection.dim=32",
                "output.path=" + dir.resolve("bench")));
    Benchmark.run(config, List.of(1, 10));
    JsonNode json = new ObjectMapper().readTree(dir.resolve("bench/benchmark.json").toFile());
    long p = json.path("parameters").asLong();
    assertEquals(8 * 6 + 6 + 6 * 3 + 3, p);
    assertTrue(json.path("sgemm_gflops_per_thread").asDouble() > 0.1, json::toPrettyString);
    assertTrue(
        json.path("peak_heap_bytes").asLong() > 0 && json.path("peak_resident_bytes").asLong() > 0,
        json::toPrettyString);
    JsonNode one = json.path("results").get(0);
    JsonNode ten = json.path("results").get(1);
    // Size 1 projects one row per example; TRAK's batched kernel two rows per group above size 1.
    assertEquals(2.0 * 600 * p * 32 / 1e9, one.path("projection_gflop").asDouble(), 1e-12);
    assertEquals(
        2.0 * 2 * ten.path("groups").asLong() * p * 32 / 1e9,
        ten.path("projection_gflop").asDouble(),
        1e-12);
    assertEquals(
        one.path("projection_gflop").asDouble() / one.path("featurize_seconds").asDouble(),
        one.path("featurize_gflops").asDouble(),
        1e-9);
    assertEquals(
        600 / ten.path("attribution_seconds").asDouble(),
        ten.path("examples_per_second").asDouble(),
        1e-6);
    // Size 1 is timed against the straightforward reference on the same rows.
    JsonNode ref = json.path("reference");
    assertEquals(600, ref.path("rows").asInt());
    assertEquals(
        ref.path("reference_seconds").asDouble() / ref.path("per_example_seconds").asDouble(),
        ref.path("per_example_speedup_vs_reference").asDouble(),
        1e-9);
  }

  /**
   * `benchmark --rows` reports, per n, the heap the driver retains between stages; the figure
   * counts what the driver holds and leaves out the cached blocks the local-mode executors keep in
   * the JVM.
   */
  @Test
  void scalingRunReportsTheHeapTheDriverRetains(@TempDir Path dir) throws Exception {
    var spark = SparkTestSession.get();
    GgdaConfig config =
        ConfigLoader.fromYaml(
            "",
            List.of(
                "data.train.format=synthetic",
                "data.train.synthetic.n=1000",
                "data.train.synthetic.dim=8",
                "data.train.synthetic.classes=3",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=20",
                "data.targets.synthetic.dim=8",
                "data.targets.synthetic.classes=3",
                "model.kind=mlp",
                "model.hidden=[6]",
                "train.epochs=1",
                "train.checkpoints=1",
                "train.mode=distributed",
                "group.method=random",
                "group.size=10",
                "attribute.method=trak",
                "attribute.kernel=sampled",
                "attribute.projection.dim=16",
                "output.top_k=3",
                "output.path=" + dir.resolve("scaling")));
    ScalingBenchmark.run(config, List.of(1000L, 3000L));
    JsonNode results =
        new ObjectMapper().readTree(dir.resolve("scaling/scaling.json").toFile()).path("results");
    assertEquals(2, results.size());
    for (JsonNode r : results) {
      assertTrue(r.path("driver_retained_heap_bytes").asLong() > 0, r::toPrettyString);
      List<String> stages = new java.util.ArrayList<>();
      r.path("driver_retained_heap_bytes_after").fieldNames().forEachRemaining(stages::add);
      assertEquals(
          List.of("train", "target_featurize", "group", "featurize_and_solve", "score"), stages);
    }
    assertEquals(300, results.get(1).path("groups").asLong());

    var sc = spark.sparkContext();
    // Held first, released after: garbage freed in between can only widen the gap, never hide the
    // array.
    byte[] held = new byte[64 << 20];
    long holding = MemoryPeaks.retainedHeapBytes(sc);
    java.lang.ref.Reference.reachabilityFence(held);
    held = null;
    long base = MemoryPeaks.retainedHeapBytes(sc);
    assertTrue(
        holding - base > 60 << 20, "a 64 MB array on the driver shows: " + holding + " -> " + base);
    var cached =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(sc)
            .parallelize(java.util.stream.IntStream.range(0, 48).boxed().toList(), 4)
            .map(i -> new byte[1 << 20])
            .cache();
    cached.count();
    long caching = MemoryPeaks.retainedHeapBytes(sc);
    // Unpersisted without blocking: its blocks may stay in the store a while, still not the
    // driver's.
    cached.unpersist(false);
    long dropping = MemoryPeaks.retainedHeapBytes(sc);
    assertTrue(
        caching - base < 24 << 20,
        "48 MB of cached blocks are the executors', not the driver's: " + base + " -> " + caching);
    assertTrue(
        dropping - base < 24 << 20,
        "blocks being dropped are the executors', not the driver's: " + base + " -> " + dropping);
  }

  /**
   * `benchmark --incremental` on a tiny table: each day's incremental run featurizes only the new
   * day's files and its scores match the full run's (for source groups; k-means groups keep their
   * first centres and assign only the new day); the shares it reports are its own times.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"random", "kmeans-input"})
  void incrementalBenchmarkFeaturizesOnlyNewDaysAndMatchesFullRuns(String method, @TempDir Path dir)
      throws Exception {
    SparkTestSession.get();
    GgdaConfig config =
        ConfigLoader.fromYaml(
            "",
            List.of(
                "data.train.format=synthetic",
                "data.train.synthetic.n=800",
                "data.train.synthetic.dim=6",
                "data.train.synthetic.classes=3",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=10",
                "data.targets.synthetic.dim=6",
                "data.targets.synthetic.classes=3",
                "data.classes=3",
                "model.kind=mlp",
                "model.hidden=[4]",
                "train.epochs=1",
                "train.checkpoints=1",
                "group.size=40",
                "group.method=" + method,
                "attribute.method=trak",
                "attribute.kernel=sampled",
                "attribute.projection.dim=16",
                "output.top_k=5",
                "output.path=" + dir.resolve("inc")));
    IncrementalBenchmark.run(config, 2, 0.25);
    JsonNode json = new ObjectMapper().readTree(dir.resolve("inc/incremental.json").toFile());
    JsonNode results = json.path("results");
    assertEquals(3, results.size());
    long before = 0;
    for (int day = 0; day < 3; day++) {
      JsonNode r = results.get(day);
      assertEquals(day, r.path("day").asInt());
      assertTrue(r.path("rows").asLong() > before, r::toPrettyString);
      assertEquals(day == 0 ? r.path("files").asInt() : 1, r.path("files_featurized").asInt());
      assertEquals(r.path("rows").asLong() - before, r.path("rows_featurized").asLong());
      if (method.equals("random")) {
        assertTrue(r.path("max_relative_difference").asDouble() <= 1e-6, r::toPrettyString);
        assertEquals(r.path("top_k_pairs").asLong(), r.path("top_k_pairs_shared").asLong());
      } else {
        JsonNode c = r.path("clustering");
        assertEquals(day == 0, c.has("refit"), r::toPrettyString);
        assertEquals(day == 0 ? r.path("files").asInt() : 1, c.path("files_assigned").asInt());
        assertFalse(r.has("max_relative_difference"), "other groups than the full run's");
      }
      double inc =
          r.path("incremental_featurize_seconds").asDouble()
              + r.path("incremental_score_seconds").asDouble();
      double full =
          r.path("full_featurize_seconds").asDouble() + r.path("full_score_seconds").asDouble();
      assertEquals(inc / full, r.path("incremental_share").asDouble(), 1e-12);
      assertEquals(
          (inc + r.path("incremental_group_seconds").asDouble())
              / (full + r.path("full_group_seconds").asDouble()),
          r.path("incremental_share_with_grouping").asDouble(),
          1e-12);
      before = r.path("rows").asLong();
    }
  }
}
