package dev.ggda.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Builds the job's SparkSession. Under spark-submit the master and resources come from the
 * submitter; in embedded mode (no spark.master set) ggda runs on local[*].
 */
public final class Sessions {
  private Sessions() {}

  public static SparkSession getOrCreate(String appName) {
    SparkConf conf = new SparkConf(true);
    if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing(
          "spark.sql.shuffle.partitions",
          String.valueOf(Math.max(4, Runtime.getRuntime().availableProcessors() * 2)));
    }
    conf.setIfMissing("spark.app.name", appName);
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    // Per-stage progress in the driver log; spark.ggda.progress.enabled=false turns it off.
    ProgressListener.register(conf);
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
