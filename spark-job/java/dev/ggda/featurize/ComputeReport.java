package dev.ggda.featurize;

import dev.ggda.config.ComputeDevice;
import dev.ggda.spark.Nd4jThreads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the numeric work of a run ran, for run.json "compute": the device featurize chose for
 * compute.device and why, ND4J's backend, the BLAS library, its core type and threads, and the CPU,
 * on the driver and on the executors (asked by one small job, since a cluster's executors need not
 * match the driver).
 */
public final class ComputeReport {
  private ComputeReport() {}

  /**
   * {requested, driver: {...}, executors: [{..., "tasks": n}]}: identical executor descriptions are
   * merged.
   */
  public static Map<String, Object> describe(SparkSession spark, ComputeDevice requested) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("requested", requested.name().toLowerCase(java.util.Locale.ROOT));
    out.put("driver", here(requested));
    out.put("executors", executors(spark, requested));
    return out;
  }

  /**
   * This JVM (or task): featurize device, ND4J backend, BLAS vendor, core type and threads, CPU
   * model and cores.
   */
  public static Map<String, String> here(ComputeDevice requested) {
    Map<String, String> m = new TreeMap<>();
    m.put("featurize", FeaturizeBackends.decision(requested));
    m.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
    m.put(
        "blas",
        String.valueOf(Nd4j.factory().blas().getBlasVendor()).toLowerCase(java.util.Locale.ROOT));
    m.put("blas_threads", String.valueOf(Nd4jThreads.blasThreads()));
    m.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto"));
    m.put("cpu", cpuModel());
    m.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    return m;
  }

  private static List<Map<String, String>> executors(SparkSession spark, ComputeDevice requested) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int tasks = Math.max(1, jsc.defaultParallelism());
    List<Integer> slots = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      slots.add(i);
    }
    jsc.setJobDescription("ggda: describe the executors' compute device");
    Map<Map<String, String>, Integer> seen = new LinkedHashMap<>();
    for (Map<String, String> d :
        jsc.parallelize(slots, tasks).map(i -> here(requested)).collect()) {
      seen.merge(d, 1, Integer::sum);
    }
    jsc.setJobDescription(null);
    List<Map<String, String>> out = new ArrayList<>();
    seen.forEach(
        (d, count) -> {
          Map<String, String> m = new TreeMap<>(d);
          m.put("tasks", String.valueOf(count));
          out.add(m);
        });
    return out;
  }

  /** The CPU's model name (Linux), else the architecture. */
  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or /proc unreadable: fall through.
    }
    return System.getProperty("os.arch");
  }
}
