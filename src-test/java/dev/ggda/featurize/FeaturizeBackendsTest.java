package dev.ggda.featurize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.ComputeDevice;
import dev.ggda.cuda.CudaDevices;
import dev.ggda.math.Featurizer;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class FeaturizeBackendsTest {
  private static final Supplier<CudaDevices.Probe> NOT_ASKED =
      () -> {
        throw new AssertionError("the CUDA probe should not run");
      };
  private static final Supplier<CudaDevices.Probe> NO_DRIVER =
      () -> new CudaDevices.Probe(0, "the CUDA libraries do not load");
  private static final Supplier<CudaDevices.Probe> TWO =
      () -> new CudaDevices.Probe(2, "2 CUDA device(s)");

  @Test
  void cpuNeverLooksForAGpu() {
    FeaturizeBackends.Choice c =
        FeaturizeBackends.choose(ComputeDevice.CPU, Optional.of(0), NOT_ASKED);
    assertNull(c.ordinal());
    assertEquals("compute.device cpu", c.reason());
  }

  @Test
  void autoTakesTheTasksGpuWhenItIsVisibleAndTheCpuOtherwiseSayingWhy() {
    FeaturizeBackends.Choice none =
        FeaturizeBackends.choose(ComputeDevice.AUTO, Optional.empty(), NOT_ASKED);
    assertNull(none.ordinal());
    assertTrue(
        none.reason().contains("no GPU assigned to the task (spark.task.resource.gpu.amount)"),
        none.reason());

    FeaturizeBackends.Choice noDriver =
        FeaturizeBackends.choose(ComputeDevice.AUTO, Optional.of(1), NO_DRIVER);
    assertNull(noDriver.ordinal());
    assertEquals(
        "compute.device auto: GPU 1 assigned, but the CUDA libraries do not load",
        noDriver.reason());

    FeaturizeBackends.Choice tooFew =
        FeaturizeBackends.choose(ComputeDevice.AUTO, Optional.of(3), TWO);
    assertNull(tooFew.ordinal());
    assertTrue(
        tooFew.reason().endsWith("GPU 3 assigned, but only 2 CUDA device(s) visible"),
        tooFew.reason());

    FeaturizeBackends.Choice gpu =
        FeaturizeBackends.choose(ComputeDevice.AUTO, Optional.of(1), TWO);
    assertEquals(1, gpu.ordinal());
    assertEquals("compute.device auto: GPU 1 assigned to the task; 2 CUDA device(s)", gpu.reason());
  }

  @Test
  void cudaUsesTheTasksGpuOrDeviceZeroAndFailsWhenNoneOpens() {
    assertEquals(1, FeaturizeBackends.choose(ComputeDevice.CUDA, Optional.of(1), TWO).ordinal());
    FeaturizeBackends.Choice local =
        FeaturizeBackends.choose(ComputeDevice.CUDA, Optional.empty(), TWO);
    assertEquals(0, local.ordinal());
    assertTrue(local.reason().contains("no GPU assigned to the task, device 0"), local.reason());
    InputException e =
        assertThrows(
            InputException.class,
            () -> FeaturizeBackends.choose(ComputeDevice.CUDA, Optional.empty(), NO_DRIVER));
    assertEquals(
        "compute.device cuda: CUDA device 0 cannot be used: the CUDA libraries do not load; set compute.device:"
            + " auto (or cpu) to featurize on the CPU",
        e.getMessage());
    assertThrows(
        InputException.class,
        () -> FeaturizeBackends.choose(ComputeDevice.CUDA, Optional.of(2), TWO));
  }

  /**
   * On a machine without a usable GPU (CI) the real probe loads the bindings, finds nothing, and
   * auto runs on the CPU.
   */
  @Test
  void withoutAGpuAutoFallsBackToTheCpuAndCudaFailsEarlyInLocalMode() {
    CudaDevices.Probe probe = CudaDevices.probe();
    Assumptions.assumeFalse(
        probe.available(), "skipped: this machine has a CUDA device (" + probe.detail() + ")");
    assertTrue(
        probe.detail().contains("libcuda.so.1") || probe.detail().contains("no usable CUDA device"),
        probe.detail());
    assertSame(Featurizer.CPU, FeaturizeBackends.forTask(ComputeDevice.AUTO));
    InputException e =
        assertThrows(
            InputException.class,
            () -> FeaturizeBackends.checkLocal(ComputeDevice.CUDA, "local[2]"));
    assertTrue(e.getMessage().contains(probe.detail()), e.getMessage());
    FeaturizeBackends.checkLocal(ComputeDevice.AUTO, "local[2]");
    FeaturizeBackends.checkLocal(ComputeDevice.CUDA, "yarn");
  }
}
