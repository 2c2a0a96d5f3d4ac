package dev.ggda.spark;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Per-stage progress counters and the throttle that decides when a stage earns a log line: at most
 * one per {@code intervalMillis} while it runs, and a final line when it ends, unless it succeeded
 * within {@code quietBelowMillis} without a progress line (a job has many tiny stages; a line for
 * each would bury the ones that matter). Spark-free and clock-free: callers pass the time; not
 * thread-safe (Spark delivers one listener's events on one thread).
 */
public final class StageProgressLog {
  private final long intervalMillis;
  private final long quietBelowMillis;
  private final Map<Long, Stage> stages = new HashMap<>();

  /** The counters of one stage attempt. */
  public static final class Stage {
    final String label;
    final int total;
    final long startMillis;
    int done;
    int failed;
    long rows;
    long lastLineMillis;
    boolean printed;

    Stage(String label, int total, long startMillis) {
      this.label = label;
      this.total = total;
      this.startMillis = startMillis;
      this.lastLineMillis = startMillis;
    }

    public int done() {
      return done;
    }

    public int total() {
      return total;
    }

    public long rows() {
      return rows;
    }
  }

  public StageProgressLog(long intervalMillis, long quietBelowMillis) {
    this.intervalMillis = intervalMillis;
    this.quietBelowMillis = quietBelowMillis;
  }

  public void stageStarted(int stageId, int attempt, String name, int numTasks, long startMillis) {
    stages.put(
        key(stageId, attempt),
        new Stage(ProgressFormat.stageLabel(stageId, attempt, name), numTasks, startMillis));
  }

  /**
   * Counts a finished task attempt ({@code records}: rows it read from input or shuffle) and
   * returns a progress line when the stage's interval has passed.
   */
  public Optional<String> taskEnded(
      int stageId, int attempt, boolean succeeded, long records, long nowMillis) {
    Stage s = stages.get(key(stageId, attempt));
    if (s == null) {
      return Optional.empty(); // a stage that started before we listened
    }
    if (succeeded) {
      s.done = Math.min(s.total, s.done + 1); // a speculative duplicate does not count twice
      s.rows += records;
    } else {
      s.failed++;
    }
    if (nowMillis - s.lastLineMillis < intervalMillis || s.done == s.total) {
      return Optional.empty(); // the final line comes with the stage's end
    }
    s.lastLineMillis = nowMillis;
    s.printed = true;
    return Optional.of(
        ProgressFormat.running(
            s.label, s.done, s.total, s.failed, s.rows, nowMillis - s.startMillis));
  }

  /**
   * Forgets the stage and returns its final line (see the class comment for when there is none).
   */
  public Optional<String> stageEnded(
      int stageId, int attempt, String failureOrNull, long nowMillis) {
    Stage s = stages.remove(key(stageId, attempt));
    if (s == null) {
      return Optional.empty();
    }
    long elapsed = nowMillis - s.startMillis;
    if (failureOrNull == null && !s.printed && elapsed < quietBelowMillis) {
      return Optional.empty();
    }
    return Optional.of(
        ProgressFormat.finished(
            s.label, s.done, s.total, s.failed, s.rows, elapsed, failureOrNull));
  }

  /** The counters of a running stage attempt, if any. */
  public Optional<Stage> stage(int stageId, int attempt) {
    return Optional.ofNullable(stages.get(key(stageId, attempt)));
  }

  private static long key(int stageId, int attempt) {
    return ((long) stageId << 32) | (attempt & 0xffffffffL);
  }
}
