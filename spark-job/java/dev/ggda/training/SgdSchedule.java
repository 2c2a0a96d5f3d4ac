package dev.ggda.training;

import dev.ggda.config.LrSchedule;

/**
 * The step plan of one member's SGD run: how many steps, the learning rate of each step, and at
 * which steps checkpoints are taken. Pure arithmetic, shared by the local and the distributed
 * trainer so both record the same checkpoint learning rates.
 */
public record SgdSchedule(
    long totalSteps, double learningRate, LrSchedule schedule, long[] checkpointSteps) {

  /** T checkpoints evenly spaced over the run, the last one at the final step. */
  public static SgdSchedule of(
      long totalSteps, double learningRate, LrSchedule schedule, int checkpoints) {
    int t = (int) Math.min(checkpoints, totalSteps);
    long[] at = new long[t];
    for (int j = 0; j < t; j++) {
      at[j] = Math.max(1, Math.round((double) totalSteps * (j + 1) / t));
    }
    return new SgdSchedule(totalSteps, learningRate, schedule, at);
  }

  /** Learning rate used for step s (0-based). Linear decays to 0 over the run. */
  public double rateAt(long step) {
    return switch (schedule) {
      case CONSTANT -> learningRate;
      case LINEAR -> learningRate * (1.0 - (double) step / totalSteps);
    };
  }

  /**
   * The learning rate recorded with checkpoint j: the mean rate of the steps since the previous
   * checkpoint. TracIn-CP weights each checkpoint by the rate that the gradient steps around it
   * used; the interval mean is exact for a constant schedule and the natural discretisation for a
   * decaying one (the last step's own rate would be ~0 at the end of a linear decay).
   */
  public double checkpointRate(int j) {
    long from = j == 0 ? 0 : checkpointSteps[j - 1];
    long to = checkpointSteps[j];
    if (to <= from) {
      return rateAt(Math.max(0, to - 1));
    }
    return switch (schedule) {
      case CONSTANT -> learningRate;
      // Mean of lr0 * (1 - s/S) over s = from..to-1.
      case LINEAR -> learningRate * (1.0 - ((from + to - 1) / 2.0) / totalSteps);
    };
  }
}
