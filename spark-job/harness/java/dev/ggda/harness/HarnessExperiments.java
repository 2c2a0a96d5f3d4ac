package dev.ggda.harness;

import dev.ggda.cli.Experiments;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GridSpec;
import java.util.List;

/** The harness's commands, found by the CLI through {@link Experiments}. */
public final class HarnessExperiments implements Experiments {
  @Override
  public void evaluateGrid(GgdaConfig config, GridSpec grid) {
    FidelityGrid.run(config, grid);
  }

  @Override
  public void benchmark(GgdaConfig config, List<Integer> groupSizes) {
    Benchmark.run(config, groupSizes);
  }

  @Override
  public void benchmarkRows(GgdaConfig config, List<Long> rows) {
    ScalingBenchmark.run(config, rows);
  }

  @Override
  public void benchmarkIncremental(GgdaConfig config, int grows, double growth) {
    IncrementalBenchmark.run(config, grows, growth);
  }

  @Override
  public void stressNative(
      GgdaConfig config, int rounds, int iterations, int tasks, int gcIntervalMs) {
    NativeStress.run(config, rounds, iterations, tasks, gcIntervalMs);
  }

  @Override
  public void stressNativeRound(GgdaConfig config, int iterations, int gcIntervalMs) {
    NativeStress.child(config, iterations, gcIntervalMs);
  }
}
