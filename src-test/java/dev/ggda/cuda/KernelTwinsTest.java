package dev.ggda.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The twin harness itself: it covers every operation, frees what it allocates, and notices a wrong
 * kernel.
 */
class KernelTwinsTest {
  @Test
  void identicalImplementationsAgreeEverywhereAndNothingLeaks() {
    EmulatedGpu a = new EmulatedGpu();
    EmulatedGpu b = new EmulatedGpu();
    List<KernelTwins.Result> results = KernelTwins.compare(a, b);
    for (KernelTwins.Result r : results) {
      assertEquals(0.0, r.error(), r.toString());
    }
    for (String kernel : CudaGpu.KERNEL_NAMES) {
      assertTrue(
          results.stream().anyMatch(r -> r.op().startsWith(kernel)), "no twin check of " + kernel);
    }
    assertEquals(0, a.live(), "arrays left allocated");
    assertEquals(0, b.live(), "arrays left allocated");
  }

  /** The emulator's P is the CPU's generator, so a device matching the emulator matches the CPU. */
  @Test
  void theEmulatorsProjectionRowsAreProjectionEntries() {
    EmulatedGpu gpu = new EmulatedGpu();
    for (dev.ggda.config.ProjectionKind kind :
        new dev.ggda.config.ProjectionKind[] {
          dev.ggda.config.ProjectionKind.RADEMACHER, dev.ggda.config.ProjectionKind.GAUSSIAN
        }) {
      dev.ggda.math.Projection proj = new dev.ggda.math.Projection(kind, 1100, 33, 8, 0, 1);
      Gpu.Array a = gpu.alloc(Gpu.Type.FLOAT, 600L * 33);
      gpu.projectionRows(
          a,
          kind == dev.ggda.config.ProjectionKind.GAUSSIAN,
          proj.key(),
          500,
          600,
          33,
          proj.rademacherScale(),
          1.0 / Math.sqrt(33));
      float[] v = new float[600 * 33];
      gpu.download(a, v, 0, v.length);
      for (int r = 0; r < 600; r++) {
        for (int c = 0; c < 33; c++) {
          assertEquals(
              Float.floatToRawIntBits(proj.entry(500 + r, c)),
              Float.floatToRawIntBits(v[r * 33 + c]),
              kind + " entry (" + (500 + r) + ", " + c + ")");
        }
      }
    }
  }

  @Test
  void aKernelThatDiffersIsReported() {
    EmulatedGpu wrong =
        new EmulatedGpu() {
          @Override
          public void gatherRows(Gpu.Array src, int cols, Gpu.Array idx, int rows, Gpu.Array dst) {
            super.gatherRows(src, cols, idx, rows, dst);
            float[] first = new float[1];
            download(dst, first, 0, 1);
            upload(new float[] {first[0] + 1}, 0, 1, dst);
          }
        };
    List<KernelTwins.Result> results = KernelTwins.compare(wrong, new EmulatedGpu());
    for (KernelTwins.Result r : results) {
      assertEquals(!r.op().equals("gather_rows"), r.ok(), r.toString());
    }
    assertFalse(results.isEmpty());
  }
}
