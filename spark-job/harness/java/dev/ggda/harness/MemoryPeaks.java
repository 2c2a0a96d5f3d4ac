package dev.ggda.harness;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of this JVM, for the benchmark: the heap pools' peak usage (what -Xmx must cover;
 * driver and executors alike in local mode), ND4J's off-heap peak as JavaCPP counts it, and the
 * process's peak resident set (VmHWM, Linux only).
 */
public final class MemoryPeaks {
  private MemoryPeaks() {}

  /** Sum of the heap pools' peak usage in bytes (each pool peaks at its own moment: an upper bound). */
  public static long heapPeakBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** Resets the heap pools' peaks, so the next reading covers what follows. */
  public static void resetHeapPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** The process's peak resident set in bytes, or -1 where /proc is not there. */
  public static long residentPeakBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** Bytes JavaCPP (ND4J's off-heap allocator) holds now. */
  public static long offHeapBytes() {
    return org.bytedeco.javacpp.Pointer.totalBytes();
  }
}
