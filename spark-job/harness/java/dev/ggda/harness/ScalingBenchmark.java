package dev.ggda.harness;

import dev.ggda.InputException;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.attribution.StageClock;
import dev.ggda.attribution.TargetFeatures;
import dev.ggda.config.DataConfig;
import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.SyntheticSpec;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.io.Versions;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.spark.Sessions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * `ggda benchmark --rows n1,n2,...`: the whole pipeline (generate, train, group, featurize, kernel,
 * score) on the synthetic training set at several sizes n, one after another in one session, with
 * the configured group size (so the group count grows with n), the per-n peak heap and the heap the
 * driver retains between stages. Shows whether cost per row and driver memory stay flat as n grows,
 * and gives the per-row figures the README's cluster sizing guide extrapolates from. Writes
 * output.path/scaling.json.
 */
public final class ScalingBenchmark {
  private ScalingBenchmark() {}

  public static void run(GgdaConfig config, List<Long> rows) {
    DataSource train = config.data().train();
    if (train.format() != DataFormat.SYNTHETIC || train.synthetic() == null) {
      throw new InputException(
          "--rows: scaling runs generate the training set; set data.train.format: synthetic"
              + " (see conf/experiments/scaling-synthetic.yaml) or drop --rows");
    }
    Console console = Console.progress();
    SparkSession spark = Sessions.getOrCreate("ggda benchmark --rows");
    int partitionsFloor = Math.max(2, spark.sparkContext().defaultParallelism());
    List<Map<String, Object>> results = new ArrayList<>();
    for (long n : rows) {
      GgdaConfig c = withTrainRows(config, n);
      Pipeline p = new Pipeline(spark, c, "benchmark-rows", console);
      System.gc();
      MemoryPeaks.resetHeapPeaks();
      long t0 = System.nanoTime();
      p.load();
      p.obtainModel();
      double loadSecs = p.info().stageSeconds("load");
      double trainSecs = secs(t0) - loadSecs;
      Map<String, Long> retained = new LinkedHashMap<>();
      retained.put("train", MemoryPeaks.retainedHeapBytes(spark.sparkContext()));
      // Partitions grow with n like a cluster job's input splits would.
      int partitions = (int) Math.max(partitionsFloor, Math.min(2_000, n / 250_000));
      AttributionStage stage =
          new AttributionStage(
              c.attribute(), c.compute().device(), line -> console.info("%s", line));
      long t1 = System.nanoTime();
      TargetFeatures targetFeatures =
          stage.featurizeTargets(p.targetData(), p.model(), n, partitionsFloor);
      double targetSecs = secs(t1);
      retained.put("target_featurize", MemoryPeaks.retainedHeapBytes(spark.sparkContext()));
      long t2 = System.nanoTime();
      Groups groups = GroupingStage.assign(spark, c, p.trainData(), p.model());
      groups.assignment().cache().count();
      double groupSecs = secs(t2);
      retained.put("group", MemoryPeaks.retainedHeapBytes(spark.sparkContext()));
      StageClock clock = new StageClock();
      AttributionStage.Prepared prepared =
          stage
              .timedBy(clock)
              .prepare(
                  p.trainData(), groups.assignment(), targetFeatures, p.model(), n, partitions);
      retained.put("featurize_and_solve", MemoryPeaks.retainedHeapBytes(spark.sparkContext()));
      long t3 = System.nanoTime();
      ScoreStage.Scored tables =
          ScoreStage.score(spark, prepared.blocks, prepared.operator, c.output().topK());
      long groupCount = tables.groupValues.count();
      long scoreRows = tables.scores.count();
      double scoreSecs = secs(t3);
      long heapPeak = MemoryPeaks.heapPeakBytes();
      retained.put("score", MemoryPeaks.retainedHeapBytes(spark.sparkContext()));
      long driverHeap = retained.values().stream().mapToLong(Long::longValue).max().orElse(0);
      tables.release();
      prepared.blocks.unpersist(false);
      groups.assignment().unpersist();
      p.trainData().examples().unpersist(false);
      p.targetData().examples().unpersist(false);

      Map<String, Object> r = new LinkedHashMap<>();
      double total =
          loadSecs
              + trainSecs
              + targetSecs
              + groupSecs
              + clock.seconds(StageClock.FEATURIZE)
              + clock.driverSeconds()
              + scoreSecs;
      r.put("rows", n);
      r.put("groups", groupCount);
      r.put("score_rows", scoreRows);
      r.put("load_seconds", loadSecs);
      r.put("train_seconds", trainSecs);
      r.put("target_featurize_seconds", targetSecs);
      r.put("grouping_seconds", groupSecs);
      r.put("featurize_seconds", clock.seconds(StageClock.FEATURIZE));
      r.put("kernel_solve_seconds", clock.driverSeconds());
      r.put("score_seconds", scoreSecs);
      r.put("total_seconds", total);
      r.put(
          "attribution_microseconds_per_row",
          1e6
              * (groupSecs
                  + clock.seconds(StageClock.FEATURIZE)
                  + clock.driverSeconds()
                  + scoreSecs)
              / n);
      r.put("total_microseconds_per_row", 1e6 * total / n);
      r.put("peak_heap_bytes", heapPeak);
      r.put("driver_retained_heap_bytes", driverHeap);
      r.put("driver_retained_heap_bytes_after", retained);
      r.put("heap_max_bytes", Runtime.getRuntime().maxMemory());
      r.put("peak_resident_bytes", MemoryPeaks.residentPeakBytes());
      results.add(r);
      console.info(
          "benchmark --rows: n=%,d: %,d groups, load %.1f s, train %.1f s, group %.1f s, featurize %.1f s,"
              + " kernel %.1f s, score %.1f s, total %.1f s (%.2f us/row), peak heap %.2f GB, driver retains %.0f MB",
          n,
          groupCount,
          loadSecs,
          trainSecs,
          groupSecs,
          clock.seconds(StageClock.FEATURIZE),
          clock.driverSeconds(),
          scoreSecs,
          total,
          1e6 * total / n,
          heapPeak / 1e9,
          driverHeap / 1e6);
    }
    print(results);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("versions", Versions.all());
    out.put("method", config.attribute().method().toString());
    out.put("projection_dim", config.attribute().projection().dim());
    out.put("grouping", config.group().method().toString());
    out.put("group_size", config.group().size());
    out.put("cores", Runtime.getRuntime().availableProcessors());
    out.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto"));
    out.put("results", results);
    console.info("benchmark --rows: wrote %s", Benchmark.writeJson(config, "scaling.json", out));
  }

  /** The config with the synthetic training set resized to n rows. */
  static GgdaConfig withTrainRows(GgdaConfig config, long n) {
    DataSource t = config.data().train();
    SyntheticSpec s = t.synthetic();
    SyntheticSpec resized =
        new SyntheticSpec(n, s.dim(), s.classes(), s.labelNoise(), s.separation(), s.seed());
    DataSource train =
        new DataSource(
            t.path(),
            t.format(),
            t.idCol(),
            t.labelCol(),
            t.featuresCol(),
            t.groupCol(),
            t.labelsPath(),
            t.limit(),
            resized);
    DataConfig data = new DataConfig(train, config.data().targets(), config.data().classes());
    return new GgdaConfig(
        data,
        config.model(),
        config.train(),
        config.group(),
        config.attribute(),
        config.output(),
        config.evaluate(),
        config.prune(),
        config.noise(),
        config.compute(),
        config.incremental());
  }

  private static void print(List<Map<String, Object>> results) {
    System.out.println();
    System.out.printf(
        "%12s %8s %7s %8s %8s %10s %8s %8s %8s %9s %11s %9s %10s %11s%n",
        "rows",
        "groups",
        "load s",
        "train s",
        "group s",
        "featurize s",
        "kernel s",
        "score s",
        "total s",
        "us/row",
        "attr us/row",
        "vs first",
        "peak heap",
        "driver heap");
    double first = Double.NaN;
    for (Map<String, Object> r : results) {
      double perRow = (Double) r.get("total_microseconds_per_row");
      if (Double.isNaN(first)) {
        first = perRow;
      }
      System.out.printf(
          "%,12d %,8d %7.1f %8.1f %8.1f %10.1f %8.1f %8.1f %8.1f %9.2f %11.2f %8.2fx %8.2f GB %8.0f MB%n",
          (long) num(r, "rows"),
          (long) num(r, "groups"),
          num(r, "load_seconds"),
          num(r, "train_seconds"),
          num(r, "grouping_seconds"),
          num(r, "featurize_seconds"),
          num(r, "kernel_solve_seconds"),
          num(r, "score_seconds"),
          num(r, "total_seconds"),
          perRow,
          num(r, "attribution_microseconds_per_row"),
          perRow / first,
          num(r, "peak_heap_bytes") / 1e9,
          num(r, "driver_retained_heap_bytes") / 1e6);
    }
    System.out.println(
        "us/row constant across n (\"vs first\" near 1.0x) means time grows linearly in n. Peak heap is"
            + " the sum of the heap pools' peaks (an upper bound: they peak at different moments); the heap limit is "
            + String.format("%.2f GB", Runtime.getRuntime().maxMemory() / 1e9)
            + ". Driver heap is the most the driver"
            + " retained after any stage (heap after a full GC, less cached RDD blocks): flat across n means nothing on the"
            + " driver grows with the rows.");
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** A number of a result row, for printing. */
  private static double num(Map<String, Object> row, String key) {
    return ((Number) row.get(key)).doubleValue();
  }
}
