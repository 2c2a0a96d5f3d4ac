package dev.ggda.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressListenerTest {
  private static final Pattern DONE =
      Pattern.compile("stage \\d+ \\((.*)\\) done: (\\d+)/(\\d+) tasks, (\\d+) rows in .*");
  private static final Pattern RUNNING =
      Pattern.compile("stage \\d+ \\((.*)\\): (\\d+)/(\\d+) tasks .*");

  @Test
  void reportsTasksAndRowsReadFromInputAndShuffle(@TempDir Path dir) throws Exception {
    SparkSession spark = SparkTestSession.get();
    String parquet = dir.resolve("rows").toString();
    spark.range(0, 600, 1, 4).write().parquet(parquet);

    Dataset<Row> table =
        spark.read().parquet(parquet); // its schema job runs here, before we listen
    List<String> lines = new CopyOnWriteArrayList<>();
    ProgressListener listener = new ProgressListener(0, 0, lines::add); // every task, every stage
    spark.sparkContext().addSparkListener(listener);
    try {
      long rows = table.repartition(3).count();
      assertEquals(600, rows);
      // Listener events arrive asynchronously: wait for the three stages' final lines.
      long deadline = System.currentTimeMillis() + 30_000;
      while (countStages(lines).size() < 3 && System.currentTimeMillis() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
    List<Matcher> done = countStages(lines);
    assertEquals(3, done.size(), () -> String.join("\n", lines));
    // Scan (600 rows from Parquet), round-robin repartition into 3 (600 shuffled rows), final
    // count (one partial count per partition); in stage order.
    long scanned = Long.parseLong(done.get(0).group(4));
    long shuffled = Long.parseLong(done.get(1).group(4));
    long partials = Long.parseLong(done.get(2).group(4));
    assertEquals(600, scanned, () -> String.join("\n", lines));
    assertEquals(600, shuffled, () -> String.join("\n", lines));
    assertEquals(3, partials, () -> String.join("\n", lines));
    assertEquals(3, Integer.parseInt(done.get(1).group(2)));
    assertEquals(3, Integer.parseInt(done.get(1).group(3)));
    for (Matcher m : done) {
      assertEquals(m.group(2), m.group(3), "every task of a finished stage is counted");
    }
    // With no throttle, every task but a stage's last yields a running line.
    List<Matcher> running =
        lines.stream()
            .map(RUNNING::matcher)
            .filter(m -> m.matches() && m.group(1).startsWith("count at"))
            .toList();
    int expectedRunning = done.stream().mapToInt(m -> Integer.parseInt(m.group(3)) - 1).sum();
    assertEquals(expectedRunning, running.size(), () -> String.join("\n", lines));
  }

  /** Final lines of the count query's stages (the schema job's late events may arrive too). */
  private static List<Matcher> countStages(List<String> lines) {
    return lines.stream()
        .map(DONE::matcher)
        .filter(m -> m.matches() && m.group(1).startsWith("count at"))
        .toList();
  }

  @Test
  void registersThroughExtraListenersOnceAndCanBeDisabled() {
    String name = ProgressListener.class.getName();
    SparkConf conf = new SparkConf(false).set("spark.extraListeners", "com.example.Other");
    ProgressListener.register(conf);
    ProgressListener.register(conf);
    assertEquals("com.example.Other," + name, conf.get("spark.extraListeners"));
    SparkConf off = new SparkConf(false).set(ProgressListener.ENABLED_KEY, "false");
    ProgressListener.register(off);
    assertFalse(off.contains("spark.extraListeners"));
  }
}
