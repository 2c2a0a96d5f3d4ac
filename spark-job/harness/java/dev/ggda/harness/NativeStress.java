package dev.ggda.harness;

import dev.ggda.InputException;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.data.Columns;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.spark.Sessions;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * `ggda stress-native`: a stress run of the native (ND4J/OpenBLAS) side under the conditions of the
 * one SIGSEGV seen in sgemm (FMNIST LR, IF with the projected Gauss-Newton kernel, kmeans-grad
 * groups): each round is a child JVM, so a native crash ends only that round and leaves its hs_err
 * log, running Spark with two concurrent tasks, a projection cache that holds exactly one P (so
 * concurrent featurize tasks on different checkpoints evict the P the other is multiplying with),
 * and a thread that forces a full GC every few milliseconds (so ND4J's deallocator frees
 * unreachable native buffers while the other task computes). Every iteration featurizes and scores
 * the config's method and TracIn over every checkpoint; scores must agree across iterations and
 * rounds (a use-after-free shows as wrong numbers before it shows as a crash). Writes
 * output.path/round-N/ (child log, hs_err logs, scores) and output.path/stress-native.json; exits 1
 * when any round crashed or disagreed.
 */
public final class NativeStress {
  /** Scores agree when they differ by at most this, relative to the largest score. */
  static final double TOLERANCE = 1e-6;

  /** A child that saw its scores change between iterations leaves this file in its round folder. */
  static final String MISMATCH = "MISMATCH";

  private NativeStress() {}

  /** What one round of the parent saw. */
  record Round(int round, int exitCode, String outcome, List<String> hsErr, double seconds) {}

  /**
   * How a child's end reads: a crash (killed by a signal, or the JVM wrote an hs_err log), scores
   * that changed between its iterations, a failure (an exception), or ok.
   */
  static String outcome(int exitCode, boolean hsErrWritten, boolean mismatch) {
    if (exitCode > 128 || hsErrWritten) {
      return "crash";
    }
    if (mismatch) {
      return "mismatch";
    }
    return exitCode == 0 ? "ok" : "failed";
  }

  /**
   * The parent: {@code rounds} child JVMs one after another, their outcomes and scores compared.
   */
  public static void run(
      GgdaConfig config, int rounds, int iterations, int tasks, int gcIntervalMs) {
    Console console = Console.progress();
    Path out = localOutput(config);
    Path configFile = out.resolve("stress-config.yaml");
    write(configFile, ConfigLoader.toYaml(config));
    List<Round> results = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      Round round =
          child(
              configFile,
              out.resolve(String.format("round-%03d", r)),
              r,
              iterations,
              tasks,
              gcIntervalMs);
      if (round.outcome().equals("ok")
          && r > 0
          && !sameScores(out.resolve("round-000"), out.resolve(String.format("round-%03d", r)))) {
        round = new Round(r, round.exitCode(), "mismatch", round.hsErr(), round.seconds());
      }
      results.add(round);
      console.info(
          "stress-native: round %d/%d: %s (exit %d, %.0f s)%s",
          r + 1,
          rounds,
          round.outcome(),
          round.exitCode(),
          round.seconds(),
          round.hsErr().isEmpty() ? "" : ", " + String.join(", ", round.hsErr()));
    }
    long crashes = results.stream().filter(x -> x.outcome().equals("crash")).count();
    long bad = results.stream().filter(x -> !x.outcome().equals("ok")).count();
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("rounds", rounds);
    summary.put("iterations_per_round", iterations);
    summary.put("concurrent_tasks", tasks);
    summary.put("gc_interval_ms", gcIntervalMs);
    summary.put("crashes", crashes);
    summary.put("not_ok", bad);
    summary.put("compute", dev.ggda.featurize.ComputeReport.here(config.compute().device()));
    summary.put(
        "results",
        results.stream()
            .map(
                x ->
                    Map.of(
                        "round",
                        x.round(),
                        "exit_code",
                        x.exitCode(),
                        "outcome",
                        x.outcome(),
                        "hs_err",
                        x.hsErr(),
                        "seconds",
                        x.seconds()))
            .toList());
    try {
      write(
          out.resolve("stress-native.json"),
          new com.fasterxml.jackson.databind.ObjectMapper()
              .writerWithDefaultPrettyPrinter()
              .writeValueAsString(summary));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    console.info(
        "stress-native: %d rounds x %d iterations: %d crashed, %d not ok; wrote %s",
        rounds, iterations, crashes, bad, out.resolve("stress-native.json"));
    if (bad > 0) {
      throw new IllegalStateException(
          bad + " of " + rounds + " stress rounds crashed or disagreed; see " + out);
    }
  }

  private static Path localOutput(GgdaConfig config) {
    String path = config.output().path();
    if (path.contains("://") && !path.startsWith("file:")) {
      throw new InputException(
          "output.path: stress-native writes child logs on this machine; give a local folder, got "
              + path);
    }
    Path out = Path.of(path.replaceFirst("^file:(//)?", ""));
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + out, e);
    }
    return out;
  }

  private static Round child(
      Path configFile, Path dir, int round, int iterations, int tasks, int gcIntervalMs) {
    try {
      Files.createDirectories(dir);
      List<String> cmd = new ArrayList<>();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      cmd.add(ProcessHandle.current().info().command().orElse(java));
      for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (!a.startsWith("-XX:ErrorFile")
            && !a.startsWith("-Dspark.master")
            && !a.startsWith("-agentlib")
            && !a.startsWith("-javaagent")) {
          cmd.add(a);
        }
      }
      cmd.addAll(
          List.of(
              "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
              "-Dspark.master=local[" + tasks + "]",
              "-cp",
              System.getProperty("java.class.path"),
              "dev.ggda.cli.Main",
              "stress-native",
              "--child",
              String.valueOf(round),
              "--iterations",
              String.valueOf(iterations),
              "--gc-interval-ms",
              String.valueOf(gcIntervalMs),
              "-c",
              configFile.toString(),
              "--set",
              "output.path=" + dir));
      long t0 = System.nanoTime();
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("child.log").toFile())
              .start();
      int code = p.waitFor();
      List<String> hsErr;
      try (Stream<Path> s = Files.list(dir)) {
        hsErr =
            s.map(x -> x.getFileName().toString())
                .filter(n -> n.startsWith("hs_err"))
                .sorted()
                .toList();
      }
      return new Round(
          round,
          code,
          outcome(code, !hsErr.isEmpty(), Files.exists(dir.resolve(MISMATCH))),
          hsErr,
          (System.nanoTime() - t0) / 1e9);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start stress round " + round, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted in stress round " + round, e);
    }
  }

  /**
   * One round, in its own JVM: load, train, kmeans-grad grouping once; then {@code iterations}
   * times featurize and score the config's method and TracIn over every checkpoint, under a one-P
   * projection cache and a full GC every {@code gcIntervalMs}.
   */
  public static void child(GgdaConfig config, int iterations, int gcIntervalMs) {
    Console console = Console.progress();
    SparkSession spark = Sessions.getOrCreate("ggda stress-native");
    Pipeline p = new Pipeline(spark, config, "stress-native", console);
    p.load();
    p.obtainModel();
    Groups groups = GroupingStage.assign(spark, config, p.trainData(), p.model());
    long budgetMb =
        (p.model().architecture().paramCount() * config.attribute().projection().dim() * 4 >> 20)
            + 1;
    // Room for one P: featurize tasks on different checkpoints evict each other's.
    System.setProperty("ggda.projection.cache.mb", String.valueOf(budgetMb));
    console.info(
        "stress-native: %,d groups, projection cache %d MB (one P), a full GC every %d ms",
        groups.count(), budgetMb, gcIntervalMs);
    Thread gc =
        new Thread(
            () -> {
              try {
                while (!Thread.currentThread().isInterrupted()) {
                  System.gc();
                  TimeUnit.MILLISECONDS.sleep(gcIntervalMs);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "ggda-stress-gc");
    gc.setDaemon(true);
    gc.start();
    AttributeConfig tracin =
        new AttributeConfig(
            AttributionMethod.TRACIN,
            config.attribute().projection(),
            config.attribute().kernel(),
            config.attribute().hessian(),
            0,
            config.attribute().target(),
            0);
    List<AttributeConfig> methods = List.of(config.attribute(), tracin);
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    boolean agree = true;
    Path dir = Path.of(config.output().path().replaceFirst("^file:(//)?", ""));
    for (int i = 0; i < iterations; i++) {
      for (int m = 0; m < methods.size(); m++) {
        double[] scores = scores(spark, methods.get(m), p, groups, partitions);
        Path file = dir.resolve("scores-" + m + ".bin");
        if (i == 0) {
          writeScores(file, scores);
        } else if (!agrees(readScores(file), scores)) {
          agree = false;
          console.info(
              "stress-native: iteration %d: %s scores differ from iteration 0",
              i, methods.get(m).method());
        }
      }
      console.info(
          "stress-native: iteration %d/%d done; %d projections evicted from the cache so far",
          i + 1, iterations, dev.ggda.math.Projection.evictions());
    }
    gc.interrupt();
    if (!agree) {
      write(dir.resolve(MISMATCH), "scores changed between iterations; see child.log\n");
      throw new IllegalStateException("stress-native: scores changed between iterations");
    }
  }

  /** All scores of one method, ordered by (target, group). */
  private static double[] scores(
      SparkSession spark, AttributeConfig method, Pipeline p, Groups groups, int partitions) {
    AttributionStage stage = new AttributionStage(method, line -> {});
    long n = p.trainData().count();
    AttributionStage.Prepared prepared =
        stage.prepare(
            p.trainData(),
            groups.assignment(),
            stage.featurizeTargets(p.targetData(), p.model(), n, partitions),
            p.model(),
            n,
            partitions);
    ScoreStage.Scored tables = ScoreStage.score(spark, prepared.blocks, prepared.operator, null);
    List<Row> rows =
        tables
            .scores
            .orderBy(Columns.TARGET_ID, Columns.GROUP_ID)
            .select(Columns.SCORE)
            .collectAsList();
    tables.release();
    prepared.blocks.unpersist(false);
    return rows.stream().mapToDouble(r -> r.getDouble(0)).toArray();
  }

  /** Equal length, and every score within {@link #TOLERANCE} of the largest score's magnitude. */
  static boolean agrees(double[] a, double[] b) {
    if (a.length != b.length) {
      return false;
    }
    double scale = 0;
    for (double v : a) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < a.length; i++) {
      if (!(Math.abs(a[i] - b[i]) <= TOLERANCE * Math.max(scale, Double.MIN_NORMAL))) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameScores(Path first, Path other) {
    for (int m = 0; ; m++) {
      Path a = first.resolve("scores-" + m + ".bin");
      if (!Files.exists(a)) {
        return m > 0;
      }
      Path b = other.resolve("scores-" + m + ".bin");
      if (!Files.exists(b) || !agrees(readScores(a), readScores(b))) {
        return false;
      }
    }
  }

  private static void writeScores(Path file, double[] scores) {
    try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(file))) {
      o.writeInt(scores.length);
      for (double v : scores) {
        o.writeDouble(v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static double[] readScores(Path file) {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      double[] v = new double[in.readInt()];
      for (int i = 0; i < v.length; i++) {
        v[i] = in.readDouble();
      }
      return v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
