package dev.ggda.gpucheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/gpu-check end to end on the CPU: a bundle built from Fashion-MNIST-shaped data (a small
 * model and k, so the emulated device is quick), then the check on the emulated device. It must
 * pass every agreement check and report its timings; with a corrupted model it must fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GpuCheckTest {
  @TempDir static Path dir;
  Path bundle;

  /**
   * IDX files of 28 x 28 images whose pixels depend on the label, so training has something to fit.
   */
  static void writeData(Path data, int train, int test) throws Exception {
    SplittableRandom rnd = new SplittableRandom(5);
    for (String[] f :
        new String[][] {{"train", String.valueOf(train)}, {"t10k", String.valueOf(test)}}) {
      int n = Integer.parseInt(f[1]);
      float[] x = new float[n * 784];
      int[] y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = rnd.nextInt(10);
        for (int j = 0; j < 784; j++) {
          int v =
              (int)
                  Math.max(
                      0, Math.min(255, 60 + 12 * y[i] * ((j % 7) - 3) + 40 * rnd.nextGaussian()));
          x[i * 784 + j] = v / 255f;
        }
      }
      Bundle.writeIdx(
          new Bundle.Images(x, y, 784),
          n,
          data.resolve(f[0] + "-images-idx3-ubyte.gz"),
          data.resolve(f[0] + "-labels-idx1-ubyte.gz"));
    }
  }

  @BeforeAll
  void buildBundle() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    writeData(data, 1200, 64);
    bundle = dir.resolve("bundle");
    BundleBuilder.build(data, bundle, 8, 32, 1, 1200, 64);
  }

  private record Run(int exit, String output) {}

  private Run check(Path bundleDir, String... extra) throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    String[] base = {
      "--bundle",
      bundleDir.toString(),
      "--emulated",
      "--rows",
      "200",
      "--targets",
      "16",
      "--repeats",
      "1",
      "--out",
      dir.resolve("out").toString(),
      "--target",
      "per-example=1000",
      "--target",
      "trak-e2e=0.000001"
    };
    String[] all =
        java.util.stream.Stream.concat(
                java.util.Arrays.stream(base), java.util.Arrays.stream(extra))
            .toArray(String[]::new);
    int exit =
        new GpuCheck(new Args(all), new PrintStream(text, true, StandardCharsets.UTF_8)).run();
    return new Run(exit, text.toString(StandardCharsets.UTF_8));
  }

  @Test
  void onTheEmulatedDeviceEveryCheckPassesAndTheTimingsAreReported() throws Exception {
    Run r = check(bundle);
    assertEquals(0, r.exit(), r.output());
    assertTrue(r.output().contains("agreement: all checks passed"), r.output());
    assertTrue(r.output().contains("fmnist TRAK scores"), r.output());
    assertTrue(r.output().contains("target per-example  <= 1000.000 s"), r.output());
    assertTrue(
        r.output().contains("MISSED"), "a target of a microsecond cannot be met:\n" + r.output());
    String json = Files.readString(dir.resolve("out/gpu-check.json"));
    assertTrue(json.contains("\"agreementOk\": true"), json);
    assertTrue(json.contains("\"TRAK end to end\""), json);
  }

  @Test
  void aModelThatDiffersFromTheReferencesFailsTheCheck() throws Exception {
    Path other = dir.resolve("corrupt");
    Files.createDirectories(other);
    try (var files = Files.list(bundle)) {
      for (Path f : files.toList()) {
        Files.copy(f, other.resolve(f.getFileName()));
      }
    }
    float[] params = Bundle.readFloats(other.resolve(Bundle.MODEL));
    params[params.length - 1] += 0.5f;
    Bundle.writeFloats(other.resolve(Bundle.MODEL), params);
    Run r = check(other, "--skip-timings");
    assertEquals(1, r.exit(), r.output());
    assertTrue(r.output().contains("FAIL fmnist per-example TRAK (exact kernel)"), r.output());
    assertTrue(
        r.output().contains("ok   case: "),
        "the featurize cases do not use the bundle's model:\n" + r.output());
  }
}
