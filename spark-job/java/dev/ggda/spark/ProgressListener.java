package dev.ggda.spark;

import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A progress line per stage in the driver log: tasks done/total, rows read (input plus shuffle
 * records of finished tasks), rows/s and ETA, at most every {@code spark.ggda.progress.interval}
 * (default 10s), and a final line per stage that ran at least {@code
 * spark.ggda.progress.quietBelow} (default 2s). {@link Sessions} registers it unless {@code
 * spark.ggda.progress.enabled=false}; any Spark application can use it with {@code
 * spark.extraListeners=dev.ggda.spark.ProgressListener}.
 */
public final class ProgressListener extends SparkListener {
  public static final String ENABLED_KEY = "spark.ggda.progress.enabled";
  public static final String INTERVAL_KEY = "spark.ggda.progress.interval";
  public static final String QUIET_BELOW_KEY = "spark.ggda.progress.quietBelow";

  private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);

  private final StageProgressLog log;
  private final Consumer<String> sink;

  /**
   * The constructor Spark calls for spark.extraListeners; lines go to this class's logger at INFO.
   */
  public ProgressListener(SparkConf conf) {
    this(conf.getTimeAsMs(INTERVAL_KEY, "10s"), conf.getTimeAsMs(QUIET_BELOW_KEY, "2s"), LOG::info);
  }

  public ProgressListener(long intervalMillis, long quietBelowMillis, Consumer<String> sink) {
    this.log = new StageProgressLog(intervalMillis, quietBelowMillis);
    this.sink = sink;
  }

  /** Adds this listener to {@code spark.extraListeners} unless disabled or already there. */
  public static void register(SparkConf conf) {
    if (!conf.getBoolean(ENABLED_KEY, true)) {
      return;
    }
    String name = ProgressListener.class.getName();
    String listeners = conf.get("spark.extraListeners", "").strip();
    for (String listener : listeners.split(",")) {
      if (listener.strip().equals(name)) {
        return;
      }
    }
    conf.set("spark.extraListeners", listeners.isEmpty() ? name : listeners + "," + name);
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted event) {
    StageInfo info = event.stageInfo();
    long start =
        info.submissionTime().isDefined()
            ? (Long) info.submissionTime().get()
            : System.currentTimeMillis();
    log.stageStarted(info.stageId(), info.attemptNumber(), info.name(), info.numTasks(), start);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    boolean succeeded = event.taskInfo() != null && event.taskInfo().successful();
    log.taskEnded(
            event.stageId(),
            event.stageAttemptId(),
            succeeded,
            recordsRead(event.taskMetrics()),
            System.currentTimeMillis())
        .ifPresent(sink);
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    StageInfo info = event.stageInfo();
    String failure = info.failureReason().isDefined() ? info.failureReason().get() : null;
    long end =
        info.completionTime().isDefined()
            ? (Long) info.completionTime().get()
            : System.currentTimeMillis();
    log.stageEnded(info.stageId(), info.attemptNumber(), failure, end).ifPresent(sink);
  }

  /** Rows a task read: from a data source plus from the shuffle (one of them is usually 0). */
  private static long recordsRead(TaskMetrics metrics) {
    if (metrics == null) {
      return 0;
    }
    return metrics.inputMetrics().recordsRead() + metrics.shuffleReadMetrics().recordsRead();
  }
}
