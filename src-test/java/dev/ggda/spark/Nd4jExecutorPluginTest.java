package dev.ggda.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.MetricRegistry;
import dev.ggda.InputException;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.SparkConf;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.resource.ResourceInformation;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The plugin's driver and executor sides, driven through Spark's plugin interfaces without a
 * cluster.
 */
class Nd4jExecutorPluginTest {
  private static final long MIB = 1L << 20;

  /** What Spark hands a plugin; only conf() and resources() matter here. */
  private record Context(SparkConf conf, Map<String, ResourceInformation> resources)
      implements PluginContext {
    @Override
    public MetricRegistry metricRegistry() {
      return new MetricRegistry();
    }

    @Override
    public String executorID() {
      return "1";
    }

    @Override
    public String hostname() {
      return "localhost";
    }

    @Override
    public void send(Object message) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Object ask(Object message) {
      throw new UnsupportedOperationException();
    }
  }

  private static SparkConf yarn(String memory, String overhead, String javaOptions) {
    SparkConf conf =
        new SparkConf(false)
            .set("spark.master", "yarn")
            .set("spark.executor.memory", memory)
            .set("spark.executor.memoryOverhead", overhead);
    return javaOptions == null ? conf : conf.set("spark.executor.extraJavaOptions", javaOptions);
  }

  @Test
  void driverRefusesExecutorsWhoseOffHeapCapExceedsTheOverhead() {
    SparkConf conf =
        yarn(
            "16g",
            "2g",
            "-Dorg.bytedeco.javacpp.maxbytes=8g -Dorg.bytedeco.javacpp.maxphysicalbytes=18g");
    InputException e =
        assertThrows(
            InputException.class,
            () -> new Nd4jExecutorPlugin().driverPlugin().init(null, new Context(conf, Map.of())));
    assertFalse(e.getMessage().contains("\n"));
    assertTrue(e.getMessage().contains("spark.executor.memoryOverhead"), e.getMessage());
  }

  @Test
  void driverAcceptsFittingLimitsAndSkipsLocalModeAndOptOut() {
    String fits =
        "-Dorg.bytedeco.javacpp.maxbytes=3584m -Dorg.bytedeco.javacpp.maxphysicalbytes=20g";
    assertDoesNotThrow(
        () ->
            new Nd4jExecutorPlugin()
                .driverPlugin()
                .init(null, new Context(yarn("16g", "4g", fits), Map.of())));
    String tooBig = "-Dorg.bytedeco.javacpp.maxbytes=8g";
    SparkConf local = yarn("16g", "2g", tooBig).set("spark.master", "local[2]");
    assertDoesNotThrow(
        () -> new Nd4jExecutorPlugin().driverPlugin().init(null, new Context(local, Map.of())));
    SparkConf optOut = yarn("16g", "2g", tooBig).set(Nd4jExecutorPlugin.CHECK_MEMORY_KEY, "false");
    assertDoesNotThrow(
        () -> new Nd4jExecutorPlugin().driverPlugin().init(null, new Context(optOut, Map.of())));
  }

  @Test
  void clusterModeDriverIsCheckedToo() {
    SparkConf conf =
        yarn(
                "16g",
                "4g",
                "-Dorg.bytedeco.javacpp.maxbytes=3584m -Dorg.bytedeco.javacpp.maxphysicalbytes=20g")
            .set("spark.submit.deployMode", "cluster")
            .set("spark.driver.memory", "8g");
    // Driver: no JavaCPP options, so maxbytes defaults to its 8g heap against a 819m overhead.
    InputException e =
        assertThrows(
            InputException.class,
            () -> new Nd4jExecutorPlugin().driverPlugin().init(null, new Context(conf, Map.of())));
    assertTrue(e.getMessage().contains("spark.driver.memoryOverhead"), e.getMessage());
  }

  @Test
  void executorChecksTheCapsItsJvmReallyHasAndSetsThreads() {
    // This JVM's caps come from Surefire's argLine; size a container around them.
    long maxBytes = Pointer.maxBytes();
    long physical = Pointer.maxPhysicalBytes();
    long overheadMb = maxBytes / MIB + 512;
    long memoryMb = Math.max(physical / MIB - overheadMb, 1024);
    int opThreads = Nd4jThreads.opThreads();
    int ompThreads = Nd4jThreads.ompThreads();
    int blasThreads = Nd4jThreads.blasThreads();
    // The executor's own settings claim tiny caps: the effective ones must be what is checked.
    SparkConf fits =
        yarn(memoryMb + "m", overheadMb + "m", "-Dorg.bytedeco.javacpp.maxbytes=1m")
            .set(Nd4jExecutorPlugin.THREADS_KEY, "2");
    try {
      // Knock OpenMP and BLAS off first, so the plugin has something to put right.
      Nd4jThreads.nativeOps("setOmpNumThreads", 3);
      Nd4j.factory().blas().setMaxThreads(3);
      new Nd4jExecutorPlugin().executorPlugin().init(new Context(fits, Map.of()), Map.of());
      // ND4J's pool cannot grow after start-up (Surefire starts it with OMP_NUM_THREADS=1).
      int expected = Math.min(2, Nd4jThreads.ceiling());
      assertEquals(expected, Nd4jThreads.opThreads());
      assertEquals(expected, Nd4jThreads.ompThreads());
      assertEquals(expected, Nd4jThreads.blasThreads());
    } finally {
      Nd4j.getEnvironment().setMaxMasterThreads(opThreads);
      Nd4jThreads.nativeOps("setOmpNumThreads", ompThreads);
      Nd4j.factory().blas().setMaxThreads(blasThreads);
    }
    SparkConf tight =
        yarn(memoryMb + "m", (maxBytes / MIB) + "m", "-Dorg.bytedeco.javacpp.maxbytes=1m");
    InputException e =
        assertThrows(
            InputException.class,
            () ->
                new Nd4jExecutorPlugin()
                    .executorPlugin()
                    .init(new Context(tight, Map.of()), Map.of()));
    assertTrue(e.getMessage().contains("in effect in executor JVM"), e.getMessage());
  }

  @Test
  void threadsFollowTaskCpusUnlessSetExplicitly() {
    assertEquals(1, Nd4jExecutorPlugin.threads(new SparkConf(false)));
    assertEquals(4, Nd4jExecutorPlugin.threads(new SparkConf(false).set("spark.task.cpus", "4")));
    assertEquals(
        2,
        Nd4jExecutorPlugin.threads(
            new SparkConf(false)
                .set("spark.task.cpus", "4")
                .set(Nd4jExecutorPlugin.THREADS_KEY, "2")));
    assertThrows(
        InputException.class,
        () ->
            Nd4jExecutorPlugin.threads(
                new SparkConf(false).set(Nd4jExecutorPlugin.THREADS_KEY, "0")));
  }

  @Test
  void gpuDeviceComesFromTheExecutorsResources() {
    assertEquals(
        Optional.of(3),
        Nd4jExecutorPlugin.gpuAddress(
            Map.of("gpu", new ResourceInformation("gpu", new String[] {"3", "5"}))));
    assertEquals(Optional.empty(), Nd4jExecutorPlugin.gpuAddress(Map.of()));
    assertEquals(
        Optional.empty(),
        Nd4jExecutorPlugin.gpuAddress(
            Map.of("fpga", new ResourceInformation("fpga", new String[] {"0"}))));
    InputException e =
        assertThrows(
            InputException.class,
            () ->
                Nd4jExecutorPlugin.gpuAddress(
                    Map.of("gpu", new ResourceInformation("gpu", new String[] {"GPU-abc"}))));
    assertTrue(e.getMessage().contains("discoveryScript"));
  }
}
