package dev.ggda.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kernels.cu compiles (with nvcc, where the CUDA toolkit is installed: the GPU hosts compile it
 * with NVRTC at start-up, which is not here) and defines exactly the kernels CudaGpu launches.
 */
class CudaKernelsCompileTest {
  private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

  @Test
  void theSourceDefinesExactlyTheKernelsCudaGpuLoads() {
    Set<String> defined = new TreeSet<>();
    Matcher m = KERNEL.matcher(CudaGpu.source());
    while (m.find()) {
      defined.add(m.group(1));
    }
    assertEquals(new TreeSet<>(List.of(CudaGpu.KERNEL_NAMES)), defined);
  }

  static Path nvcc() {
    List<Path> candidates = new ArrayList<>();
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      candidates.add(Path.of(dir, "nvcc"));
    }
    try (Stream<Path> cudas = Files.list(Path.of("/usr/local"))) {
      cudas
          .filter(p -> p.getFileName().toString().startsWith("cuda"))
          .forEach(p -> candidates.add(p.resolve("bin/nvcc")));
    } catch (java.io.IOException e) {
      // no /usr/local: PATH only
    }
    return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
  }

  @Test
  void nvccCompilesTheKernelsToPtxWithEveryEntryPoint(@TempDir Path dir) throws Exception {
    Path nvcc = nvcc();
    Assumptions.assumeTrue(
        nvcc != null,
        "skipped: no nvcc on PATH or under /usr/local/cuda*; the kernels compile on GPU hosts");
    Path src = dir.resolve("kernels.cu");
    Files.writeString(src, CudaGpu.source());
    Path ptx = dir.resolve("kernels.ptx");
    Process p =
        new ProcessBuilder(
                nvcc.toString(),
                "-ptx",
                "-arch=compute_75",
                "-std=c++17",
                "-o",
                ptx.toString(),
                src.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "nvcc failed:\n" + output);
    assertTrue(output.isBlank(), "nvcc warnings:\n" + output);
    String text = Files.readString(ptx);
    for (String k : CudaGpu.KERNEL_NAMES) {
      assertTrue(text.contains(".entry " + k + "("), "no entry point " + k + " in the PTX");
    }
  }
}
