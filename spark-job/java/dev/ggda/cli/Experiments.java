package dev.ggda.cli;

import dev.ggda.InputException;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GridSpec;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The commands that measure ggda rather than use it (benchmarks, the efficiency-fidelity grid).
 * They live in the experiment harness, a jar of its own beside the job jar, found on the classpath
 * through this service interface; deploy/ggda puts it there.
 */
public interface Experiments {
  /** `ggda evaluate --methods ... --group-sizes ...`: the efficiency-fidelity table. */
  void evaluateGrid(GgdaConfig config, GridSpec grid);

  /** `ggda benchmark`: attribution time at several group sizes on one model. */
  void benchmark(GgdaConfig config, List<Integer> groupSizes);

  /** `ggda benchmark --rows`: the whole pipeline on synthetic data of several sizes. */
  void benchmarkRows(GgdaConfig config, List<Long> rows);

  /** `ggda benchmark --incremental`: a growing table scored by incremental and full runs. */
  void benchmarkIncremental(GgdaConfig config, int grows, double growth);

  /** `ggda stress-native`: rounds of child JVMs exercising the native suspects of a crash. */
  void stressNative(GgdaConfig config, int rounds, int iterations, int tasks, int gcIntervalMs);

  /** One round of `ggda stress-native`, inside the child JVM. */
  void stressNativeRound(GgdaConfig config, int iterations, int gcIntervalMs);

  /** The harness on the classpath, or an input error saying how to get it. */
  static Experiments load(String command) {
    return ServiceLoader.load(Experiments.class)
        .findFirst()
        .orElseThrow(
            () ->
                new InputException(
                    command
                        + ": this command is part of the experiment harness (target/ggda-harness.jar), which is not on the classpath;"
                        + " run it through deploy/ggda, or add the harness jar (spark-submit --jars target/ggda-harness.jar)"));
  }
}
