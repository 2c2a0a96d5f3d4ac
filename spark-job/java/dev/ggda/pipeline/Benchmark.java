package dev.ggda.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.attribution.TargetFeatures;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.grouping.Groups;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.io.Versions;
import dev.ggda.model.TrainedModel;
import dev.ggda.spark.Sessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * `ggda benchmark`: attribution wall time (featurize + kernel/solve + score) of one configured
 * method at several group sizes, in one run on one trained model, so the speedup of groups over
 * per-example attribution (group size 1) is measured like for like. Grouping time is reported
 * apart. Prints a table and writes benchmark.json under output.path.
 */
public final class Benchmark {
  private Benchmark() {}

  public static void run(GgdaConfig config, List<Integer> groupSizes) {
    Console console = Console.stdout();
    SparkSession spark = Sessions.getOrCreate("ggda benchmark");
    Pipeline p = new Pipeline(spark, config, "benchmark", console);
    p.load();
    p.obtainModel();
    LoadedData train = p.trainData();
    LoadedData targets = p.targetData();
    if (targets == null) {
      throw new dev.ggda.InputException("data.targets: the benchmark needs targets; set data.targets.path");
    }
    train.examples().cache().count();
    targets.examples().cache().count();
    TrainedModel model = p.model();
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    AttributionStage stage = new AttributionStage(config.attribute(), line -> console.info("%s", line));
    // Target features do not depend on the grouping: computed once, timed apart, and added to each
    // size's total in the "with targets" columns.
    long tt = System.nanoTime();
    TargetFeatures targetFeatures = stage.featurizeTargets(targets, model, train.count(), partitions);
    double targetSecs = secs(tt);
    List<Map<String, Object>> rows = new ArrayList<>();
    double baseline = Double.NaN;
    for (int size : groupSizes) {
      GroupConfig gc = new GroupConfig(config.group().method(), size, null, config.group().seed());
      GgdaConfig c = config.withGroup(gc);
      long t0 = System.nanoTime();
      Groups groups = GroupingStage.assign(spark, c, train, model);
      groups.assignment().cache().count();
      double groupSecs = secs(t0);
      long t1 = System.nanoTime();
      AttributionStage.Prepared prepared = stage.prepare(train, groups.assignment(), targetFeatures, model, train.count(),
          partitions);
      double featurizeSecs = secs(t1);
      long t2 = System.nanoTime();
      ScoreStage.Tables tables = ScoreStage.score(spark, prepared.blocks, prepared.operator, config.output().topK());
      long scored = tables.groupValues.count();
      double scoreSecs = secs(t2);
      tables.release();
      prepared.blocks.unpersist(false);
      groups.assignment().unpersist();
      double total = featurizeSecs + scoreSecs;
      if (size == 1) {
        baseline = total;
      }
      double withTargets = total + targetSecs;
      double baselineWithTargets = baseline + targetSecs;
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("group_size", size);
      r.put("groups", scored);
      r.put("grouping_seconds", groupSecs);
      r.put("featurize_seconds", prepared.featurizeSeconds);
      r.put("kernel_solve_seconds", prepared.operatorSeconds);
      r.put("featurize_kernel_seconds", featurizeSecs);
      r.put("score_seconds", scoreSecs);
      r.put("attribution_seconds", total);
      r.put("speedup_vs_size_1", baseline / total);
      r.put("attribution_with_targets_seconds", withTargets);
      r.put("speedup_with_targets_vs_size_1", baselineWithTargets / withTargets);
      rows.add(r);
      console.info("benchmark: group size %d: %,d groups, featurize %.1f s, kernel/solve %.1f s, score %.1f s, total %.1f s%s",
          size, scored, prepared.featurizeSeconds, prepared.operatorSeconds, scoreSecs, total,
          Double.isNaN(baseline) ? "" : String.format(", %.1fx vs size 1", baseline / total));
    }
    System.out.println();
    System.out.printf("targets featurized once: %.1f s (%,d targets)%n", targetSecs, targetFeatures.targets());
    System.out.printf("%-10s %8s %10s %11s %9s %8s %8s %9s %13s %10s%n", "group size", "groups", "grouping s", "featurize s",
        "kernel s", "score s", "total s", "speedup", "+targets s", "speedup");
    for (Map<String, Object> r : rows) {
      System.out.printf("%-10d %8d %10.1f %11.1f %9.1f %8.1f %8.1f %9s %13.1f %10s%n", r.get("group_size"), r.get("groups"),
          r.get("grouping_seconds"), r.get("featurize_seconds"), r.get("kernel_solve_seconds"), r.get("score_seconds"),
          r.get("attribution_seconds"), ratio((Double) r.get("speedup_vs_size_1")), r.get("attribution_with_targets_seconds"),
          ratio((Double) r.get("speedup_with_targets_vs_size_1")));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("versions", Versions.all());
    out.put("train_rows", train.count());
    out.put("targets", targets.count());
    out.put("parameters", model.architecture().paramCount());
    out.put("method", config.attribute().method().toString());
    out.put("projection_dim", config.attribute().projection().dim());
    out.put("grouping", config.group().method().toString());
    out.put("cores", Runtime.getRuntime().availableProcessors());
    out.put("target_featurize_seconds", targetSecs);
    out.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto"));
    out.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"));
    out.put("results", rows);
    try {
      Path dir = Path.of(config.output().path());
      Files.createDirectories(dir);
      Path file = dir.resolve("benchmark.json");
      Files.writeString(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
      console.info("benchmark: wrote %s", file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String ratio(double r) {
    return Double.isNaN(r) ? "-" : String.format("%.1fx", r);
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
