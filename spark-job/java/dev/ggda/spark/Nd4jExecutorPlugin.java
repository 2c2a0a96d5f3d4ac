package dev.ggda.spark;

import dev.ggda.InputException;
import dev.ggda.cuda.CudaDevices;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.resource.ResourceInformation;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Prepares ND4J on every JVM of a cluster run; enable it with {@code
 * spark.plugins=dev.ggda.spark.Nd4jExecutorPlugin}.
 *
 * <p>The driver side checks, before any executor starts, that the executors' ND4J off-heap caps fit
 * the memory Spark requests for them (and the driver's own, in cluster mode), so a run sized too
 * small stops with one line naming the setting instead of a container killed mid-run. Each executor
 * then checks the caps its JVM really has, reports whether the GPU Spark assigned it (if any) can
 * be opened by the cuda featurize backend, initialises ND4J once and sets ND4J's OpenMP and BLAS
 * threads to the cores of one task.
 *
 * <p>Settings (all optional): {@code spark.ggda.nd4j.threads} (default {@code spark.task.cpus}),
 * {@code spark.ggda.nd4j.nativeReserve} (default 512m, see {@link OffHeapBudget}), {@code
 * spark.ggda.nd4j.checkMemory} (default true). In local mode the memory check is skipped: there are
 * no containers and the executor shares the driver's JVM.
 */
public final class Nd4jExecutorPlugin implements SparkPlugin {
  public static final String THREADS_KEY = "spark.ggda.nd4j.threads";
  public static final String CHECK_MEMORY_KEY = "spark.ggda.nd4j.checkMemory";

  private static final Logger LOG = LoggerFactory.getLogger(Nd4jExecutorPlugin.class);

  @Override
  public DriverPlugin driverPlugin() {
    return new Driver();
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new Executor();
  }

  /** Checks the planned executor (and cluster-mode driver) budgets from the submitted settings. */
  static final class Driver implements DriverPlugin {
    @Override
    public Map<String, String> init(SparkContext sc, PluginContext ctx) {
      SparkConf conf = ctx.conf();
      if (!checksMemory(conf)) {
        return Map.of();
      }
      Map<String, String> settings = settings(conf);
      failOn(budget("executor", settings));
      if ("cluster".equals(conf.get("spark.submit.deployMode", "client"))) {
        failOn(budget("driver", settings));
      }
      return Map.of();
    }
  }

  /** Per executor JVM: memory check on the effective caps, GPU report, ND4J start-up, threads. */
  static final class Executor implements ExecutorPlugin {
    @Override
    public void init(PluginContext ctx, Map<String, String> extraConf) {
      SparkConf conf = ctx.conf();
      if (checksMemory(conf)) {
        // The caps this JVM really has (however they were set), against what Spark requested.
        OffHeapBudget planned = budget("executor", settings(conf));
        OffHeapBudget actual =
            withEffectiveLimits(planned, Pointer.maxBytes(), Pointer.maxPhysicalBytes());
        failOn(actual);
        LOG.info("executor {}: {}", ctx.executorID(), actual.describe());
      }
      // Tasks pick their device themselves (FeaturizeBackends); this only says early what they will
      // find.
      gpuAddress(ctx.resources())
          .ifPresent(
              gpu ->
                  LOG.info(
                      "executor {}: GPU {} assigned; {}",
                      ctx.executorID(),
                      gpu,
                      CudaDevices.probe().detail()));
      int threads = threads(conf);
      String backend = Nd4j.getBackend().getClass().getSimpleName(); // loads the natives once, here
      int used = Nd4jThreads.set(threads);
      if (used < threads) {
        LOG.warn(
            "executor {}: {} ND4J threads per task wanted but ND4J started with {}; set"
                + " spark.executorEnv.OMP_NUM_THREADS={} (the pool is sized when the natives load)",
            ctx.executorID(),
            threads,
            used,
            threads);
      }
      LOG.info(
          "executor {}: ND4J {} ready, {} thread(s) per task", ctx.executorID(), backend, used);
    }
  }

  /** ND4J/OpenMP/BLAS threads for one task: spark.ggda.nd4j.threads, else spark.task.cpus. */
  static int threads(SparkConf conf) {
    int threads = conf.getInt(THREADS_KEY, conf.getInt("spark.task.cpus", 1));
    if (threads < 1) {
      throw new InputException(THREADS_KEY + "=" + threads + " must be at least 1");
    }
    return threads;
  }

  /**
   * The first GPU address in Spark resources (an executor's or a task's), as a CUDA device index.
   */
  public static Optional<Integer> gpuAddress(Map<String, ResourceInformation> resources) {
    ResourceInformation gpu = resources == null ? null : resources.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return Optional.empty();
    }
    String address = gpu.addresses()[0];
    try {
      return Optional.of(Integer.parseInt(address.strip()));
    } catch (NumberFormatException e) {
      throw new InputException(
          "GPU address '"
              + address
              + "' from the discovery script is not a device index;"
              + " make spark.executor.resource.gpu.discoveryScript print indices like {\"name\":\"gpu\",\"addresses\":[\"0\"]}");
    }
  }

  private static boolean checksMemory(SparkConf conf) {
    return conf.getBoolean(CHECK_MEMORY_KEY, true)
        && !conf.get("spark.master", "local").startsWith("local");
  }

  private static Map<String, String> settings(SparkConf conf) {
    Map<String, String> settings = new HashMap<>();
    for (Tuple2<String, String> kv : conf.getAll()) {
      settings.put(kv._1(), kv._2());
    }
    return settings;
  }

  private static OffHeapBudget budget(String role, Map<String, String> settings) {
    try {
      return OffHeapBudget.fromSparkSettings(role, settings);
    } catch (NumberFormatException e) {
      throw new InputException(e.getMessage(), e);
    }
  }

  static OffHeapBudget withEffectiveLimits(OffHeapBudget b, long maxBytes, long maxPhysicalBytes) {
    String origin = "in effect in executor JVM";
    return new OffHeapBudget(
        b.role(),
        b.heapBytes(),
        b.overheadBytes(),
        b.overheadOrigin(),
        b.containerBytes(),
        maxBytes,
        "-D" + OffHeapBudget.MAX_BYTES + " " + origin,
        maxPhysicalBytes,
        "-D" + OffHeapBudget.MAX_PHYSICAL + " " + origin,
        b.reserveBytes(),
        Long.getLong(OffHeapBudget.PROJECTION_CACHE, OffHeapBudget.DEFAULT_PROJECTION_CACHE_MB)
            << 20);
  }

  private static void failOn(OffHeapBudget budget) {
    Optional<String> problem = budget.problem();
    if (problem.isPresent()) {
      throw new InputException(problem.get());
    }
  }
}
