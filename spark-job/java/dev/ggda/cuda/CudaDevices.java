package dev.ggda.cuda;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

/**
 * The CUDA devices this JVM can use, looked for once, and one {@link CudaFeaturizer} per device,
 * opened on first use and kept for the JVM's life (its cached projections with it). Loading the
 * CUDA bindings needs the driver's libcuda.so.1 and the CUDA 13 runtime, cuBLAS and NVRTC on the
 * library path; where they are missing the probe says so instead of failing.
 */
public final class CudaDevices {
  /**
   * What the probe found: the number of visible devices (0 when none can be used) and a
   * description.
   */
  public record Probe(int devices, String detail) {
    public boolean available() {
      return devices > 0;
    }
  }

  private static Probe probe;
  private static final Map<Integer, CudaFeaturizer> OPEN = new HashMap<>();
  private static final Map<Integer, String> BROKEN = new HashMap<>();

  private CudaDevices() {}

  public static synchronized Probe probe() {
    if (probe == null) {
      probe = detect();
    }
    return probe;
  }

  private static Probe detect() {
    try {
      Loader.load(cudart.class);
      int[] count = {0};
      int rc = cudart.cudaGetDeviceCount(count);
      if (rc != 0) {
        return new Probe(
            0,
            "no usable CUDA device: cudaGetDeviceCount says "
                + cudart.cudaGetErrorString(rc).getString());
      }
      int[] driver = {0};
      int[] runtime = {0};
      cudart.cudaDriverGetVersion(driver);
      cudart.cudaRuntimeGetVersion(runtime);
      return new Probe(
          count[0],
          count[0]
              + " CUDA device(s), driver for CUDA "
              + version(driver[0])
              + ", runtime "
              + version(runtime[0]));
    } catch (LinkageError | RuntimeException e) {
      return new Probe(
          0,
          "the CUDA libraries do not load: "
              + rootMessage(e)
              + " (needs the NVIDIA driver's libcuda.so.1 and CUDA 13's runtime, cuBLAS and NVRTC on LD_LIBRARY_PATH)");
    }
  }

  private static String version(int v) {
    return v / 1000 + "." + v % 1000 / 10;
  }

  /** The innermost cause's first line: JavaCPP wraps the dynamic loader's message several times. */
  public static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.lines().findFirst().orElse(m).strip();
  }

  /**
   * The featurizer of device {@code ordinal}, opened on first use. Throws IllegalStateException
   * saying why when the device cannot be opened (and remembers it, so each task does not retry).
   */
  public static synchronized CudaFeaturizer featurizer(int ordinal) {
    CudaFeaturizer f = OPEN.get(ordinal);
    if (f != null) {
      return f;
    }
    String broken = BROKEN.get(ordinal);
    if (broken != null) {
      throw new IllegalStateException(broken);
    }
    Probe p = probe();
    if (ordinal < 0 || ordinal >= p.devices()) {
      throw new IllegalStateException("CUDA device " + ordinal + " is not visible: " + p.detail());
    }
    try {
      f = new CudaFeaturizer(new CudaGpu(ordinal), CudaFeaturizer.Options.defaults());
    } catch (LinkageError | RuntimeException e) {
      String why = "CUDA device " + ordinal + " does not open: " + rootMessage(e);
      BROKEN.put(ordinal, why);
      throw new IllegalStateException(why, e);
    }
    OPEN.put(ordinal, f);
    return f;
  }
}
