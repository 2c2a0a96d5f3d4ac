package dev.ggda.harness;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.attribution.StageClock;
import dev.ggda.attribution.TargetFeatures;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.ProjectionKind;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.io.Versions;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Flat;
import dev.ggda.math.Network;
import dev.ggda.math.Projection;
import dev.ggda.model.TrainedModel;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.spark.Nd4jThreads;
import dev.ggda.spark.RowArrays;
import dev.ggda.spark.Sessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * `ggda benchmark`: attribution wall time (featurize + kernel/solve + score) of one configured
 * method at several group sizes, in one run on one trained model, so the speedup of groups over
 * per-example attribution (group size 1) is measured like for like. Grouping time is reported
 * apart. Prints a table and writes benchmark.json under output.path.
 */
public final class Benchmark {
  private Benchmark() {}

  public static void run(GgdaConfig config, List<Integer> groupSizes) {
    Console console = Console.progress();
    SparkSession spark = Sessions.getOrCreate("ggda benchmark");
    Pipeline p = new Pipeline(spark, config, "benchmark", console);
    p.load();
    p.obtainModel();
    LoadedData train = p.trainData();
    LoadedData targets = p.targetData();
    if (targets == null) {
      throw new dev.ggda.InputException(
          "data.targets: the benchmark needs targets; set data.targets.path");
    }
    train.examples().cache().count();
    targets.examples().cache().count();
    TrainedModel model = p.model();
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    AttributionStage stage =
        new AttributionStage(
            config.attribute(), config.compute().device(), line -> console.info("%s", line));
    // Target features do not depend on the grouping: computed once, timed apart, and added to each
    // size's total in the "with targets" columns.
    long tt = System.nanoTime();
    TargetFeatures targetFeatures =
        stage.featurizeTargets(targets, model, train.count(), partitions);
    double targetSecs = secs(tt);
    // The yardstick: this machine's sgemm rate on a featurize-shaped product, one BLAS thread (as
    // each featurize task uses), times the task slots.
    long p0 = model.architecture().paramCount();
    int k = config.attribute().projection().dim();
    int threadsBefore = dev.ggda.spark.Nd4jThreads.opThreads();
    dev.ggda.spark.Nd4jThreads.set(1);
    double gemmPerThread = GemmProbe.gflops(1024, (int) Math.min(p0, 16384), k, 3);
    dev.ggda.spark.Nd4jThreads.set(threadsBefore);
    int slots = taskSlots(spark);
    double gemmMachine = gemmPerThread * slots;
    console.info(
        "benchmark: sgemm 1024 x %d x %d: %.1f GFLOP/s per thread, %.1f GFLOP/s on %d task slots",
        Math.min(p0, 16384), k, gemmPerThread, gemmMachine, slots);
    MemoryPeaks.resetHeapPeaks();
    List<Map<String, Object>> rows = new ArrayList<>();
    double baseline = Double.NaN;
    for (int size : groupSizes) {
      GroupConfig gc = config.group().with(config.group().method(), size, null);
      GgdaConfig c = config.withGroup(gc);
      long t0 = System.nanoTime();
      Groups groups = GroupingStage.assign(spark, c, train, model);
      groups.assignment().cache().count();
      double groupSecs = secs(t0);
      long t1 = System.nanoTime();
      StageClock clock = new StageClock();
      AttributionStage.Prepared prepared =
          stage
              .timedBy(clock)
              .prepare(
                  train, groups.assignment(), targetFeatures, model, train.count(), partitions);
      double featurizeSecs = secs(t1);
      long t2 = System.nanoTime();
      ScoreStage.Scored tables =
          ScoreStage.score(spark, prepared.blocks, prepared.operator, config.output().topK());
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
      r.put("featurize_seconds", clock.seconds(StageClock.FEATURIZE));
      r.put("kernel_solve_seconds", clock.driverSeconds());
      r.put("featurize_kernel_seconds", featurizeSecs);
      r.put("score_seconds", scoreSecs);
      r.put("attribution_seconds", total);
      r.put("speedup_vs_size_1", baseline / total);
      r.put("attribution_with_targets_seconds", withTargets);
      r.put("speedup_with_targets_vs_size_1", baselineWithTargets / withTargets);
      // The dominant work of featurize: the projection GEMM, one row per example at size 1, one per
      // group and member (two for TRAK's batched kernel: psi_G and chi_G) otherwise.
      int slotsPerGroup =
          config.attribute().method() == dev.ggda.config.AttributionMethod.TRAK
                  && config.attribute().kernel() == dev.ggda.config.KernelMode.BATCHED
                  && size > 1
              ? 2
              : 1;
      // TRAK's sampled kernel also projects its (about) min(n, 10,000) per-example rows.
      double sampledRows =
          config.attribute().method() == dev.ggda.config.AttributionMethod.TRAK
                  && config.attribute().kernel() == dev.ggda.config.KernelMode.SAMPLED
                  && size > 1
              ? Math.min(train.count(), AttributionStage.SAMPLED_KERNEL_ROWS)
              : 0;
      double rowsProjected =
          (size == 1 ? (double) train.count() : (double) scored * slotsPerGroup + sampledRows)
              * AttributionStage.modelSlots(config.attribute().method(), model);
      double gflop = 2.0 * rowsProjected * p0 * prepared.k / 1e9;
      double rate = gflop / Math.max(clock.seconds(StageClock.FEATURIZE), 1e-9);
      r.put("projection_gflop", gflop);
      r.put("featurize_gflops", rate);
      r.put("featurize_fraction_of_sgemm", rate / gemmMachine);
      r.put("examples_per_second", train.count() / total);
      r.put("groups_per_second", scored / total);
      rows.add(r);
      console.info(
          "benchmark: group size %d: %,d groups, featurize %.1f s, kernel/solve %.1f s, score %.1f s, total %.1f s%s",
          size,
          scored,
          clock.seconds(StageClock.FEATURIZE),
          clock.driverSeconds(),
          scoreSecs,
          total,
          Double.isNaN(baseline) ? "" : String.format(", %.1fx vs size 1", baseline / total));
    }
    Map<String, Object> reference =
        groupSizes.contains(1) ? referenceComparison(config, train, model, console) : null;
    long heapPeak = MemoryPeaks.heapPeakBytes();
    long rssPeak = MemoryPeaks.residentPeakBytes();
    System.out.println();
    System.out.printf(
        "sgemm yardstick: %.1f GFLOP/s per thread, %.1f GFLOP/s on %d task slots;"
            + " peak heap %.2f GB, peak resident set %.2f GB (driver and executors: one JVM in local mode)%n",
        gemmPerThread, gemmMachine, slots, heapPeak / 1e9, rssPeak / 1e9);
    System.out.printf(
        "%-10s %12s %14s %12s %12s %10s%n",
        "group size", "proj GFLOP", "featurize GF/s", "% of sgemm", "examples/s", "groups/s");
    for (Map<String, Object> r : rows) {
      System.out.printf(
          "%-10d %12.0f %14.1f %11.0f%% %12.0f %10.0f%n",
          (long) num(r, "group_size"),
          num(r, "projection_gflop"),
          num(r, "featurize_gflops"),
          100 * num(r, "featurize_fraction_of_sgemm"),
          num(r, "examples_per_second"),
          num(r, "groups_per_second"));
    }
    System.out.printf(
        "targets featurized once: %.1f s (%,d targets)%n", targetSecs, targetFeatures.targets());
    System.out.printf(
        "%-10s %8s %10s %11s %9s %8s %8s %9s %13s %10s%n",
        "group size",
        "groups",
        "grouping s",
        "featurize s",
        "kernel s",
        "score s",
        "total s",
        "speedup",
        "+targets s",
        "speedup");
    for (Map<String, Object> r : rows) {
      System.out.printf(
          "%-10d %8d %10.1f %11.1f %9.1f %8.1f %8.1f %9s %13.1f %10s%n",
          (long) num(r, "group_size"),
          (long) num(r, "groups"),
          num(r, "grouping_seconds"),
          num(r, "featurize_seconds"),
          num(r, "kernel_solve_seconds"),
          num(r, "score_seconds"),
          num(r, "attribution_seconds"),
          ratio(num(r, "speedup_vs_size_1")),
          num(r, "attribution_with_targets_seconds"),
          ratio(num(r, "speedup_with_targets_vs_size_1")));
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
    out.put("sgemm_gflops_per_thread", gemmPerThread);
    out.put("sgemm_gflops_machine", gemmMachine);
    out.put("task_slots", slots);
    out.put("peak_heap_bytes", heapPeak);
    out.put("peak_resident_bytes", rssPeak);
    out.put("results", rows);
    if (reference != null) {
      out.put("reference", reference);
    }
    console.info("benchmark: wrote %s", writeJson(config, "benchmark.json", out));
  }

  /** Rows of the per-example vs reference comparison (one thread each, so it stays short). */
  static final int REFERENCE_ROWS = 1024;

  /**
   * The third ratio: TRAK's per-example featurize ({@link dev.ggda.math.Featurizer}, what group
   * size 1 runs) against the straightforward batched {@link ReferenceFeaturizer} on the same first
   * rows (by example id), the same dense P (generated before timing), the same batch size and one
   * BLAS thread each, in the driver. Null (and a line saying why) when the configuration has no
   * dense projection to compare under.
   */
  static Map<String, Object> referenceComparison(
      GgdaConfig config, LoadedData train, TrainedModel model, Console console) {
    var ac = config.attribute();
    ProjectionKind kind = ac.projection().kind();
    boolean dense = kind == ProjectionKind.RADEMACHER || kind == ProjectionKind.GAUSSIAN;
    if (ac.method() != AttributionMethod.TRAK || !dense) {
      console.info(
          "benchmark: reference comparison skipped: it times TRAK under a dense (rademacher or gaussian) projection");
      return null;
    }
    var arch = model.architecture();
    int d = arch.inputDim();
    List<Row> picked =
        train.examples().orderBy(Columns.EXAMPLE_ID).limit(REFERENCE_ROWS).collectAsList();
    int n = picked.size();
    float[] x = new float[n * d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      Row r = picked.get(i);
      y[i] = r.getInt(r.fieldIndex(Columns.LABEL));
      RowArrays.copyFloats(r, r.fieldIndex(Columns.FEATURES), x, i * d, d);
    }
    var cp = model.finalCheckpoint(0);
    int batch = AttributionStage.passRows(arch.paramCount());
    int k = ac.projection().dim();
    var spec =
        new Featurizer.Spec(
            kind, k, ac.projection().seed(), true, Featurizer.Moment.EXAMPLES, 1.0, 0, batch);
    var slots = List.of(new Featurizer.Slot(cp.member(), cp.index(), cp.params()));
    var proj =
        new Projection(kind, arch.paramCount(), k, ac.projection().seed(), cp.member(), cp.index());
    var net = Network.fromFloats(arch, cp.params());
    int threadsBefore = Nd4jThreads.opThreads();
    Nd4jThreads.set(1);
    try {
      // Warm-up on a few rows: JIT, and P generated and cached for both.
      int w = Math.min(n, 8);
      Featurizer.featurize(arch, slots, spec, singletons(x, y, w, d));
      ReferenceFeaturizer.perExample(
          net, proj, Flat.matrix(x, w, d), y, batch, Nd4j.zeros(DataType.DOUBLE, k, k));
      long t0 = System.nanoTime();
      Featurizer.featurize(arch, slots, spec, singletons(x, y, n, d));
      double ours = secs(t0);
      long t1 = System.nanoTime();
      ReferenceFeaturizer.perExample(
          net, proj, Flat.matrix(x, n, d), y, batch, Nd4j.zeros(DataType.DOUBLE, k, k));
      double ref = secs(t1);
      console.info(
          "benchmark: per-example featurize of %,d rows, one thread, same dense P: ggda %.2f s, straightforward"
              + " batched reference %.2f s (per-sample gradients by rank-3 matmul, then one GEMM): ggda %.2fx faster",
          n, ours, ref, ref / ours);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("rows", n);
      r.put("batch_rows", batch);
      r.put("per_example_seconds", ours);
      r.put("reference_seconds", ref);
      r.put("per_example_speedup_vs_reference", ref / ours);
      return r;
    } finally {
      Nd4jThreads.set(threadsBefore);
    }
  }

  /**
   * The first n rows of x and y, each its own group (ids 0..n-1: the features do not depend on
   * them).
   */
  private static Featurizer.Rows singletons(float[] x, int[] y, int n, int d) {
    long[] ids = java.util.stream.LongStream.range(0, n).toArray();
    return new Featurizer.Rows(
        java.util.Arrays.copyOf(x, n * d),
        java.util.Arrays.copyOf(y, n),
        ids,
        d,
        ids.clone(),
        java.util.stream.IntStream.rangeClosed(0, n).toArray());
  }

  /** Writes a benchmark's figures as indented JSON under output.path (a local folder). */
  static Path writeJson(GgdaConfig config, String name, Map<String, Object> figures) {
    try {
      Path dir = Path.of(config.output().path());
      Files.createDirectories(dir);
      Path file = dir.resolve(name);
      Files.writeString(
          file,
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(figures));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Concurrent tasks: N of local[N] (all cores for local[*]), else executors x
   * spark.executor.cores.
   */
  static int taskSlots(SparkSession spark) {
    String master = spark.sparkContext().master();
    var m = java.util.regex.Pattern.compile("local\\[(\\*|\\d+)(,\\d+)?\\]").matcher(master);
    if (m.matches()) {
      return m.group(1).equals("*")
          ? Runtime.getRuntime().availableProcessors()
          : Integer.parseInt(m.group(1));
    }
    if (master.equals("local")) {
      return 1;
    }
    int executors = Math.max(1, spark.sparkContext().statusTracker().getExecutorInfos().length - 1);
    return executors * spark.sparkContext().getConf().getInt("spark.executor.cores", 1);
  }

  private static String ratio(double r) {
    return Double.isNaN(r) ? "-" : String.format("%.1fx", r);
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** A number of a result row, for printing. */
  private static double num(Map<String, Object> row, String key) {
    return ((Number) row.get(key)).doubleValue();
  }
}
