package dev.ggda.testing;

import org.apache.spark.sql.SparkSession;

/**
 * The one local[2] SparkSession (with task retries) every Spark test shares (Surefire runs all
 * classes in one JVM; a session costs 10-15 s to start on two cores, so nobody stops it).
 */
public final class SparkTestSession {
  private static SparkSession session;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (session == null || session.sparkContext().isStopped()) {
      session =
          SparkSession.builder()
              // local[N, F]: tasks are retried (F attempts), as on a cluster; FaultInjection needs
              // it.
              .master("local[2,4]")
              .appName("ggda-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.default.parallelism", "4")
              .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
              .config("spark.sql.adaptive.enabled", "false")
              .getOrCreate();
      session.sparkContext().setLogLevel("WARN");
    }
    return session;
  }
}
