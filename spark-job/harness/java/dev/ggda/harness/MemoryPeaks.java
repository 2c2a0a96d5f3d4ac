package dev.ggda.harness;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;

/**
 * Peak memory of this JVM, for the benchmark: the heap pools' peak usage (what -Xmx must cover;
 * driver and executors alike in local mode), the heap the driver retains between stages, ND4J's
 * off-heap peak as JavaCPP counts it, and the process's peak resident set (VmHWM, Linux only).
 */
public final class MemoryPeaks {
  private MemoryPeaks() {}

  /**
   * Sum of the heap pools' peak usage in bytes (each pool peaks at its own moment: an upper bound).
   */
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

  /**
   * Heap the driver retains: heap in use right after a full collection, less the blocks Spark's
   * on-heap memory store holds in this JVM (local mode, where the executors share it; on a cluster
   * they live elsewhere and nothing is subtracted). The store's own count, not the listed RDDs: an
   * RDD unpersisted without blocking leaves the list at once but its blocks stay in the store until
   * the block manager drops them. Measured between stages, when no task runs, this is what the
   * driver itself keeps: it must not grow with the number of rows.
   */
  public static long retainedHeapBytes(SparkContext sc) {
    long used = settledHeapBytes();
    long cached = sc.isLocal() ? SparkEnv.get().memoryManager().onHeapStorageMemoryUsed() : 0;
    return Math.max(0, used - cached);
  }

  /**
   * Heap in use after collections until it stops shrinking: one System.gc() may leave garbage that
   * a Cleaner or a reference queue releases only afterwards.
   */
  private static long settledHeapBytes() {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 8; i++) {
      System.gc();
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (used > best - (1 << 20)) {
        return Math.min(best, used);
      }
      best = used;
    }
    return best;
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
