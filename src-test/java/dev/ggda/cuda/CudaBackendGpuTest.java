package dev.ggda.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.attribution.AttributionFixture;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.config.ActivationKind;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.ComputeDevice;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Projection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuda backend on a real device against the CPU backend: each kernel against its Java twin, P
 * against the CPU's generator, the features and kernels of every {@link FeaturizeCases} case, and
 * the scores of whole pipelines (the correctness fixtures) with compute.device cuda and cpu, all
 * within 1e-4 relative. Skipped, saying why, where no CUDA device can be used (CI, the build
 * machine); deploy/gpu-check runs the same checks on a GPU host without Maven.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaBackendGpuTest {
  static final double TOLERANCE = 1e-4;
  private CudaFeaturizer device;

  /**
   * Per test, so that each one is reported skipped with the reason (a class-level skip is silent in
   * surefire).
   */
  @BeforeEach
  void openTheDevice() {
    CudaDevices.Probe probe = CudaDevices.probe();
    Assumptions.assumeTrue(
        probe.available(), "skipped: no CUDA device can be used here: " + probe.detail());
    device = CudaDevices.featurizer(0);
  }

  @Test
  void everyKernelMatchesItsJavaTwin() {
    List<KernelTwins.Result> results = KernelTwins.compare(device.gpu(), new EmulatedGpu());
    String failed =
        results.stream()
            .filter(r -> !r.ok())
            .map(KernelTwins.Result::toString)
            .collect(Collectors.joining("\n"));
    assertTrue(failed.isEmpty(), "kernels that differ from their Java twins:\n" + failed);
  }

  @Test
  void projectionsGeneratedOnTheDeviceAreTheCpusEntries() {
    Gpu gpu = device.gpu();
    for (ProjectionKind kind :
        new ProjectionKind[] {ProjectionKind.RADEMACHER, ProjectionKind.GAUSSIAN}) {
      Projection proj = new Projection(kind, 1500, 301, 11, 1, 3);
      Gpu.Array a = gpu.alloc(Gpu.Type.FLOAT, 1500L * 301);
      gpu.projectionRows(
          a,
          kind == ProjectionKind.GAUSSIAN,
          proj.key(),
          0,
          1500,
          301,
          proj.rademacherScale(),
          1.0 / Math.sqrt(301));
      float[] v = new float[1500 * 301];
      gpu.download(a, v, 0, v.length);
      gpu.free(a);
      int differ = 0;
      for (int r = 0; r < 1500; r++) {
        for (int c = 0; c < 301; c++) {
          float e = proj.entry(r, c);
          float got = v[r * 301 + c];
          // RADEMACHER bit for bit; GAUSSIAN within one float32 step (the device's log and cos may
          // round the last double bit differently from the JVM's).
          boolean same =
              kind == ProjectionKind.RADEMACHER
                  ? Float.floatToRawIntBits(e) == Float.floatToRawIntBits(got)
                  : Math.abs(e - got) <= Math.ulp(e);
          differ += same ? 0 : 1;
        }
      }
      assertEquals(0, differ, kind + ": entries that differ from Projection.entry");
    }
  }

  static List<FeaturizeCases.Case> cases() {
    return FeaturizeCases.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void featuresAndKernelsEqualTheCpus(FeaturizeCases.Case c) {
    Featurizer.Output cpu = Featurizer.CPU.featurize(c.arch(), c.slotList(), c.spec(), c.rows());
    try (CudaFeaturizer cuda = new CudaFeaturizer(device.gpu(), c.options())) {
      Featurizer.Output out = cuda.featurize(c.arch(), c.slotList(), c.spec(), c.rows());
      Agreement.Report report = Agreement.outputs(cpu, out, c.k());
      assertTrue(report.within(TOLERANCE), c + ": " + report);
    }
  }

  @Test
  void pipelineScoresWithComputeDeviceCudaEqualTheCpus() {
    Architecture lrArch = Architecture.logistic(4, 3);
    AttributionFixture lr =
        new AttributionFixture(60, 5, 4, 3, 12, 11).train(lrArch, 4, 3, 1, 0.05, 1);
    Architecture mlpArch = new Architecture(4, new int[] {5}, 3, ActivationKind.TANH);
    AttributionFixture mlp =
        new AttributionFixture(48, 4, 4, 3, 10, 12).train(mlpArch, 3, 3, 2, 0.05, 2);
    AttributionFixture perExample =
        new AttributionFixture(40, 4, 4, 3, 40, 13).train(mlpArch, 3, 2, 1, 0.05, 3);
    record Run(String name, AttributionFixture fixture, AttributeConfig config) {}
    List<Run> runs =
        List.of(
            new Run(
                "TRAK rademacher exact",
                mlp,
                AttributionFixture.config(
                    AttributionMethod.TRAK,
                    ProjectionKind.RADEMACHER,
                    16,
                    KernelMode.EXACT,
                    HessianMode.CG,
                    0.01)),
            new Run(
                "TRAK rademacher batched",
                mlp,
                AttributionFixture.config(
                    AttributionMethod.TRAK,
                    ProjectionKind.RADEMACHER,
                    16,
                    KernelMode.BATCHED,
                    HessianMode.CG,
                    0.01)),
            new Run(
                "TRAK gaussian sampled",
                mlp,
                AttributionFixture.config(
                    AttributionMethod.TRAK,
                    ProjectionKind.GAUSSIAN,
                    12,
                    KernelMode.SAMPLED,
                    HessianMode.CG,
                    0.01)),
            new Run(
                "TRAK factored per example",
                perExample,
                AttributionFixture.config(
                    AttributionMethod.TRAK,
                    ProjectionKind.FACTORED,
                    20,
                    KernelMode.EXACT,
                    HessianMode.CG,
                    0.01)),
            new Run(
                "TracIn unprojected",
                mlp,
                AttributionFixture.config(
                    AttributionMethod.TRACIN,
                    ProjectionKind.NONE,
                    0,
                    KernelMode.EXACT,
                    HessianMode.CG,
                    0)),
            new Run(
                "IF projected Gauss-Newton",
                lr,
                AttributionFixture.config(
                    AttributionMethod.IF,
                    ProjectionKind.RADEMACHER,
                    10,
                    KernelMode.EXACT,
                    HessianMode.PROJECTED,
                    0.01)),
            new Run(
                "GradDot rademacher",
                lr,
                AttributionFixture.config(
                    AttributionMethod.GRADDOT,
                    ProjectionKind.RADEMACHER,
                    10,
                    KernelMode.EXACT,
                    HessianMode.CG,
                    0)));
    for (Run run : runs) {
      Map<String, Double> cpu =
          run.fixture
              .pipeline(new AttributionStage(run.config, ComputeDevice.CPU, line -> {}), 2, null)
              .scores();
      Map<String, Double> cuda =
          run.fixture
              .pipeline(new AttributionStage(run.config, ComputeDevice.CUDA, line -> {}), 2, null)
              .scores();
      assertEquals(cpu.keySet(), cuda.keySet(), run.name + ": scored pairs");
      double worst = worstTargetError(cpu, cuda);
      assertTrue(
          worst <= TOLERANCE, run.name + ": scores of a target differ by " + worst + " relative");
    }
  }

  /** max over targets of ||s_cuda - s_cpu|| / ||s_cpu|| over that target's groups. */
  static double worstTargetError(Map<String, Double> cpu, Map<String, Double> cuda) {
    Map<String, double[]> byTarget = new HashMap<>();
    for (Map.Entry<String, Double> e : cpu.entrySet()) {
      String target = e.getKey().substring(0, e.getKey().indexOf('/'));
      double diff = cuda.get(e.getKey()) - e.getValue();
      double[] sums = byTarget.computeIfAbsent(target, t -> new double[2]);
      sums[0] += diff * diff;
      sums[1] += e.getValue() * e.getValue();
    }
    double worst = 0;
    for (double[] s : byTarget.values()) {
      worst = Math.max(worst, Math.sqrt(s[0]) / Math.max(Math.sqrt(s[1]), Double.MIN_NORMAL));
    }
    return worst;
  }
}
