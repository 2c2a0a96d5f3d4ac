package dev.ggda.attribution;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall time of attribution's steps, for callers that report them (the benchmarks, the efficiency
 * grid): {@link #FEATURIZE} the training set with its kernel reduction, {@link #HESSIAN} summing
 * the IF exact Hessian, {@link #SOLVE} the rest of the driver's work (kernel or Hessian, damping,
 * factorisation), and {@link #REUSED} a Hessian summed by an earlier grouping, charged because a
 * run of this grouping alone would pay it. Results carry no timings: a stage records into the clock
 * it was given.
 */
public final class StageClock {
  public static final String FEATURIZE = "featurize";
  public static final String HESSIAN = "hessian";
  public static final String SOLVE = "solve";
  public static final String REUSED = "reused";

  private final Map<String, Double> seconds = new LinkedHashMap<>();

  void add(String step, double s) {
    seconds.merge(step, s, Double::sum);
  }

  /** Seconds recorded for a step; 0 when it did not run. */
  public double seconds(String step) {
    return seconds.getOrDefault(step, 0.0);
  }

  /** Hessian, solve and reused: the driver-side work of one grouping. */
  public double driverSeconds() {
    return seconds(HESSIAN) + seconds(SOLVE) + seconds(REUSED);
  }
}
