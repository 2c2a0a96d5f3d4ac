package dev.ggda.featurize;

import dev.ggda.InputException;
import dev.ggda.config.ComputeDevice;
import dev.ggda.cuda.CudaDevices;
import dev.ggda.math.FeaturizeBackend;
import dev.ggda.math.Featurizer;
import dev.ggda.spark.Nd4jExecutorPlugin;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which backend a featurize task runs on ({@code compute.device}). auto: the GPU Spark assigned to
 * the task ({@code spark.task.resource.gpu.amount}, its address from the discovery script) when a
 * CUDA device can be opened there, else the CPU; cpu: the CPU; cuda: the task's GPU, or device 0
 * when Spark assigned none (local mode), failing when it cannot be opened. Each executor logs each
 * distinct decision once, with the reason.
 */
public final class FeaturizeBackends {
  private static final Logger LOG = LoggerFactory.getLogger(FeaturizeBackends.class);
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  private FeaturizeBackends() {}

  /** A decision: the CUDA device ordinal, or null for the CPU, and why. */
  record Choice(Integer ordinal, String reason) {}

  static Choice choose(
      ComputeDevice requested, Optional<Integer> taskGpu, Supplier<CudaDevices.Probe> probe) {
    String key = "compute.device " + requested.name().toLowerCase(Locale.ROOT);
    if (requested == ComputeDevice.CPU) {
      return new Choice(null, key);
    }
    if (requested == ComputeDevice.AUTO && taskGpu.isEmpty()) {
      return new Choice(
          null, key + ": no GPU assigned to the task (spark.task.resource.gpu.amount)");
    }
    int gpu = taskGpu.orElse(0);
    CudaDevices.Probe p = probe.get();
    String problem =
        !p.available()
            ? p.detail()
            : gpu >= p.devices() ? "only " + p.devices() + " CUDA device(s) visible" : null;
    if (requested == ComputeDevice.AUTO) {
      return problem != null
          ? new Choice(null, key + ": GPU " + gpu + " assigned, but " + problem)
          : new Choice(gpu, key + ": GPU " + gpu + " assigned to the task; " + p.detail());
    }
    if (problem != null) {
      throw new InputException(
          key
              + ": CUDA device "
              + gpu
              + " cannot be used: "
              + problem
              + "; set compute.device: auto (or cpu) to featurize on the CPU");
    }
    return new Choice(
        gpu,
        key
            + ": "
            + (taskGpu.isPresent()
                ? "GPU " + gpu + " assigned to the task"
                : "no GPU assigned to the task, device 0")
            + "; "
            + p.detail());
  }

  /**
   * The backend for the running Spark task (or for the calling thread outside one: no assigned
   * GPU).
   */
  public static FeaturizeBackend forTask(ComputeDevice requested) {
    Choice c = choose(requested, taskGpu(), CudaDevices::probe);
    FeaturizeBackend backend = Featurizer.CPU;
    if (c.ordinal() != null) {
      try {
        backend = CudaDevices.featurizer(c.ordinal());
      } catch (IllegalStateException e) {
        if (requested == ComputeDevice.CUDA) {
          throw new InputException(c.reason() + ", but " + e.getMessage(), e);
        }
        c = new Choice(null, c.reason() + ", but " + e.getMessage());
      }
    }
    String line = "featurize on " + backend.device() + ": " + c.reason();
    if (LOGGED.add(line)) {
      LOG.info(line);
    }
    return backend;
  }

  /**
   * What {@link #forTask} would choose here, without opening a backend: "cpu: reason" or "cuda:N:
   * reason".
   */
  static String decision(ComputeDevice requested) {
    try {
      Choice c = choose(requested, taskGpu(), CudaDevices::probe);
      return (c.ordinal() == null ? "cpu" : "cuda:" + c.ordinal()) + ": " + c.reason();
    } catch (InputException e) {
      return "unavailable: " + e.getMessage();
    }
  }

  /**
   * Fails early, on the driver, for compute.device: cuda in local mode (the driver is the executor)
   * when no device can be used, instead of in the first task.
   */
  public static void checkLocal(ComputeDevice requested, String master) {
    if (requested == ComputeDevice.CUDA && master.startsWith("local")) {
      choose(requested, Optional.empty(), CudaDevices::probe);
    }
  }

  private static Optional<Integer> taskGpu() {
    TaskContext task = TaskContext.get();
    return task == null ? Optional.empty() : Nd4jExecutorPlugin.gpuAddress(task.resourcesJMap());
  }
}
