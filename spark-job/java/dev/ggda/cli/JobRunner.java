package dev.ggda.cli;

import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GridSpec;
import dev.ggda.pipeline.Jobs;
import java.util.List;

/**
 * What the subcommands start. Production uses {@link #PIPELINE}; tests pass their own so that the
 * command tree is tested without running Spark.
 */
interface JobRunner {
  void run(GgdaConfig config);

  void train(GgdaConfig config);

  void validate(GgdaConfig config);

  void group(GgdaConfig config);

  void attribute(GgdaConfig config);

  void benchmark(GgdaConfig config, List<Integer> groupSizes);

  void benchmarkRows(GgdaConfig config, List<Long> rows);

  void evaluate(GgdaConfig config);

  void evaluateGrid(GgdaConfig config, GridSpec grid);

  void demo(String configPathOrNull, List<String> sets, String outDir);

  /** `ggda prune [--validate] [--inject-noise]`. */
  default void prune(GgdaConfig config, boolean validate, boolean injectNoise) {
    dev.ggda.apps.PruneJob.run(config, validate, injectNoise);
  }

  /** `ggda stress-native`: rounds of child JVMs. */
  default void stressNative(
      GgdaConfig config, int rounds, int iterations, int tasks, int gcIntervalMs) {
    Experiments.load("stress-native").stressNative(config, rounds, iterations, tasks, gcIntervalMs);
  }

  /** `ggda benchmark --incremental`: a growing table, incremental against full runs. */
  default void benchmarkIncremental(GgdaConfig config, int grows, double growth) {
    Experiments.load("benchmark --incremental").benchmarkIncremental(config, grows, growth);
  }

  /** One round of `ggda stress-native`, inside the child JVM. */
  default void stressNativeRound(GgdaConfig config, int iterations, int gcIntervalMs) {
    Experiments.load("stress-native").stressNativeRound(config, iterations, gcIntervalMs);
  }

  /** `ggda detect-noise [--inject-noise]`. */
  default void detectNoise(GgdaConfig config, boolean injectNoise) {
    dev.ggda.apps.NoiseJob.run(config, injectNoise);
  }

  JobRunner PIPELINE =
      new JobRunner() {
        @Override
        public void run(GgdaConfig config) {
          Jobs.run(config);
        }

        @Override
        public void train(GgdaConfig config) {
          Jobs.train(config);
        }

        @Override
        public void validate(GgdaConfig config) {
          Jobs.validate(config);
        }

        @Override
        public void group(GgdaConfig config) {
          Jobs.group(config);
        }

        @Override
        public void attribute(GgdaConfig config) {
          Jobs.attribute(config);
        }

        @Override
        public void benchmark(GgdaConfig config, List<Integer> groupSizes) {
          Experiments.load("benchmark").benchmark(config, groupSizes);
        }

        @Override
        public void benchmarkRows(GgdaConfig config, List<Long> rows) {
          Experiments.load("benchmark --rows").benchmarkRows(config, rows);
        }

        @Override
        public void evaluate(GgdaConfig config) {
          Jobs.evaluate(config);
        }

        @Override
        public void evaluateGrid(GgdaConfig config, GridSpec grid) {
          Experiments.load("evaluate --methods/--groupings/--group-sizes")
              .evaluateGrid(config, grid);
        }

        @Override
        public void demo(String configPathOrNull, List<String> sets, String outDir) {
          Jobs.demo(configPathOrNull, sets, outDir);
        }
      };
}
