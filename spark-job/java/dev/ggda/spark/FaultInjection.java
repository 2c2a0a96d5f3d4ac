package dev.ggda.spark;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * Test-only: fails the FIRST attempt of chosen tasks, to prove that retries change no score. Set
 * {@code spark.ggda.test.failFirstAttempt} (a Spark conf key, or a job-local property set with
 * {@code SparkContext.setLocalProperty}) to e.g. {@code featurize:0,2;score:1}: the featurize tasks
 * of partitions 0 and 2 and the score task of partition 1 throw on attempt 0. Unset (always, in
 * production) it does nothing. Needs a master that retries (local[N,F] or a cluster).
 */
public final class FaultInjection {
  public static final String KEY = "spark.ggda.test.failFirstAttempt";

  /** Failures injected in this JVM (local mode tests read it). */
  public static final AtomicInteger FIRED = new AtomicInteger();

  private FaultInjection() {}

  /** Called at the start of a task of stage {@code tag}. */
  public static void maybeFail(String tag) {
    TaskContext ctx = TaskContext.get();
    if (ctx == null || ctx.attemptNumber() != 0) {
      return;
    }
    String spec = ctx.getLocalProperty(KEY);
    if (spec == null && SparkEnv.get() != null) {
      spec = SparkEnv.get().conf().get(KEY, null);
    }
    if (spec == null || spec.isBlank()) {
      return;
    }
    if (FaultInjectionSpec.selects(spec, tag, ctx.partitionId())) {
      FIRED.incrementAndGet();
      throw new IllegalStateException(
          "injected failure ("
              + KEY
              + "): "
              + tag
              + " partition "
              + ctx.partitionId()
              + " attempt 0");
    }
  }
}
