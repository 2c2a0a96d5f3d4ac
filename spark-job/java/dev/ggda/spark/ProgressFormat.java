package dev.ggda.spark;

import java.util.Locale;

/** How progress figures read in the driver log: short counts, rates and durations. Spark-free. */
public final class ProgressFormat {
  private ProgressFormat() {}

  /** 950, 45.2k, 1.23M, 4.56G. */
  public static String count(long n) {
    double a = Math.abs((double) n);
    if (a < 1_000) {
      return Long.toString(n);
    } else if (a < 1_000_000) {
      return String.format(Locale.ROOT, "%.1fk", n / 1e3);
    } else if (a < 1_000_000_000) {
      return String.format(Locale.ROOT, "%.2fM", n / 1e6);
    }
    return String.format(Locale.ROOT, "%.2fG", n / 1e9);
  }

  /** Rows per second over {@code millis}, as a count; "-" before any time has passed. */
  public static String rate(long rows, long millis) {
    return millis <= 0 ? "-" : count(Math.round(rows * 1000.0 / millis)) + " rows/s";
  }

  /** 0.4s and 9.9s under ten seconds, then 42s, 3m05s, 2h03m. */
  public static String duration(long millis) {
    long ms = Math.max(0, millis);
    if (ms < 10_000) {
      return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }
    long s = Math.round(ms / 1000.0);
    if (s < 60) {
      return s + "s";
    } else if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    long m = Math.round(s / 60.0);
    return String.format(Locale.ROOT, "%dh%02dm", m / 60, m % 60);
  }

  /**
   * Time left if the remaining tasks take as long on average as the finished ones did: elapsed x
   * (total - done) / done; -1 when nothing has finished yet.
   */
  public static long etaMillis(int done, int total, long elapsedMillis) {
    if (done <= 0) {
      return -1;
    }
    return Math.round((double) elapsedMillis * Math.max(0, total - done) / done);
  }

  /** "stage 7 (name)", with ".attempt" when Spark retried the stage. */
  public static String stageLabel(int stageId, int attempt, String name) {
    return "stage " + stageId + (attempt > 0 ? "." + attempt : "") + " (" + name + ")";
  }

  /** A line while the stage runs: tasks done/total, rows, rows/s, elapsed and ETA. */
  public static String running(
      String label, int done, int total, int failed, long rows, long elapsedMillis) {
    long eta = etaMillis(done, total, elapsedMillis);
    return String.format(
        Locale.ROOT,
        "%s: %d/%d tasks (%d%%), %s rows, %s, %s elapsed, ETA %s%s",
        label,
        done,
        total,
        total == 0 ? 100 : 100L * done / total,
        count(rows),
        rate(rows, elapsedMillis),
        duration(elapsedMillis),
        eta < 0 ? "?" : duration(eta),
        failedSuffix(failed));
  }

  /** The last line of a stage; {@code failure} null when it succeeded. */
  public static String finished(
      String label,
      int done,
      int total,
      int failed,
      long rows,
      long elapsedMillis,
      String failure) {
    if (failure == null) {
      return String.format(
          Locale.ROOT,
          "%s done: %d/%d tasks, %s rows in %s, %s%s",
          label,
          done,
          total,
          count(rows),
          duration(elapsedMillis),
          rate(rows, elapsedMillis),
          failedSuffix(failed));
    }
    String reason = failure.strip().lines().findFirst().orElse("");
    return String.format(
        Locale.ROOT,
        "%s failed after %s: %d/%d tasks, %s rows%s: %s",
        label,
        duration(elapsedMillis),
        done,
        total,
        count(rows),
        failedSuffix(failed),
        reason);
  }

  private static String failedSuffix(int failed) {
    return failed == 0 ? "" : ", " + failed + " failed task attempt" + (failed == 1 ? "" : "s");
  }
}
