package dev.ggda.spark;

import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's thread settings for this JVM: its op thread pool, OpenMP and the BLAS library. The pool is
 * sized when the natives load (OMP_NUM_THREADS, else the cores) and can only be narrowed
 * afterwards, so the environment variable sets the ceiling and {@link #set} the threads in use.
 */
public final class Nd4jThreads {
  private Nd4jThreads() {}

  /**
   * Uses {@code threads} threads, at most the ceiling, for ND4J's ops, OpenMP and BLAS.
   *
   * @return the threads now in use: {@code min(threads, ceiling())}
   */
  public static int set(int threads) {
    int effective = Math.max(1, Math.min(threads, ceiling()));
    Nd4j.getEnvironment().setMaxMasterThreads(effective);
    nativeOps("setOmpNumThreads", effective);
    Nd4j.factory().blas().setMaxThreads(effective);
    return effective;
  }

  /** The size of ND4J's thread pool, fixed when the natives loaded. */
  public static int ceiling() {
    return Nd4j.getEnvironment().maxThreads();
  }

  /** Threads ND4J's ops use now. */
  public static int opThreads() {
    return Nd4j.getEnvironment().maxMasterThreads();
  }

  /** OpenMP's thread count now. */
  public static int ompThreads() {
    return (Integer) nativeOps("ompGetMaxThreads", null);
  }

  /** The BLAS library's threads now. */
  public static int blasThreads() {
    return Nd4j.factory().blas().getMaxThreads();
  }

  /**
   * Calls ND4J's native-ops interface, shared by the CPU and CUDA backends; by reflection because
   * the code compiles against nd4j-api only and the backend jar brings this class.
   */
  static Object nativeOps(String method, Integer argument) {
    try {
      Class<?> holder = Class.forName("org.nd4j.nativeblas.NativeOpsHolder");
      Object ops =
          holder
              .getMethod("getDeviceNativeOps")
              .invoke(holder.getMethod("getInstance").invoke(null));
      Class<?> api = Class.forName("org.nd4j.nativeblas.NativeOps");
      return argument == null
          ? api.getMethod(method).invoke(ops)
          : api.getMethod(method, int.class).invoke(ops, argument);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "ND4J's native ops have no " + method + " (backend " + Nd4j.getBackend() + "): " + e, e);
    }
  }
}
