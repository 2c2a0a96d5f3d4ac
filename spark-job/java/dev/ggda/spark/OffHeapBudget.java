package dev.ggda.spark;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.network.util.JavaUtils;
import org.bytedeco.javacpp.Pointer;

/**
 * ND4J's off-heap caps (JavaCPP's {@code maxbytes} and {@code maxphysicalbytes}) set against the
 * memory Spark asks the cluster manager for. Spark only knows about its heap; ND4J's buffers live
 * off-heap and must fit the container's memory overhead, or YARN / Kubernetes kill the container
 * without a word about ND4J. Spark-free: built from a map of Spark settings, so spark-defaults
 * files and the plugin share one check.
 *
 * @param role "executor" or "driver": the {@code spark.<role>.*} settings this budget is for
 * @param heapBytes {@code spark.<role>.memory}
 * @param overheadBytes {@code spark.<role>.memoryOverhead}, or Spark's derived default
 * @param overheadOrigin how {@code overheadBytes} came about, for messages
 * @param containerBytes what the cluster manager grants: heap, overhead, and for executors Spark's
 *     own off-heap pool and PySpark memory
 * @param maxBytes JavaCPP's cap on its tracked allocations (0 = none)
 * @param maxBytesOrigin the JVM option it came from, or JavaCPP's default
 * @param maxPhysicalBytes JavaCPP's cap on the process's resident memory (0 = none)
 * @param maxPhysicalOrigin the JVM option it came from, or JavaCPP's default
 * @param reserveBytes overhead kept free for the JVM's own native memory (metaspace, threads, code
 *     cache, Netty)
 * @param projectionCacheBytes ggda's per-JVM cache of projection matrices ({@code
 *     -Dggda.projection.cache.mb}, default 1024), which lives in ND4J's off-heap memory
 */
public record OffHeapBudget(
    String role,
    long heapBytes,
    long overheadBytes,
    String overheadOrigin,
    long containerBytes,
    long maxBytes,
    String maxBytesOrigin,
    long maxPhysicalBytes,
    String maxPhysicalOrigin,
    long reserveBytes,
    long projectionCacheBytes) {

  /** Spark setting: overhead left to the JVM's own native memory; ND4J may use the rest. */
  public static final String RESERVE_KEY = "spark.ggda.nd4j.nativeReserve";

  public static final String DEFAULT_RESERVE = "512m";
  static final String MAX_BYTES = "org.bytedeco.javacpp.maxbytes";
  static final String MAX_PHYSICAL = "org.bytedeco.javacpp.maxphysicalbytes";
  static final String PROJECTION_CACHE = "ggda.projection.cache.mb";
  static final long DEFAULT_PROJECTION_CACHE_MB = 1024;

  private static final long MIB = 1L << 20;

  /**
   * The budget of {@code role}'s JVMs under these Spark settings, with JavaCPP's limits read from
   * {@code spark.<role>.defaultJavaOptions} and {@code extraJavaOptions} (the last occurrence wins,
   * as on a java command line) or JavaCPP's defaults (maxbytes = heap, maxphysicalbytes = maxbytes
   * + 3 x heap).
   *
   * @throws NumberFormatException on a malformed size, with the setting's name
   */
  public static OffHeapBudget fromSparkSettings(String role, Map<String, String> settings) {
    String prefix = "spark." + role + ".";
    long heapMb = mebibytes(settings, prefix + "memory", "1g");
    long overheadMb;
    String overheadOrigin;
    if (settings.containsKey(prefix + "memoryOverhead")) {
      overheadMb = mebibytes(settings, prefix + "memoryOverhead", null);
      overheadOrigin = prefix + "memoryOverhead=" + settings.get(prefix + "memoryOverhead");
    } else {
      // Spark's rule (ResourceProfile): max(factor x memory, minMemoryOverhead), in MiB.
      String factorText = settings.getOrDefault(prefix + "memoryOverheadFactor", "0.1");
      double factor;
      try {
        factor = Double.parseDouble(factorText.strip());
      } catch (NumberFormatException e) {
        throw new NumberFormatException(
            prefix + "memoryOverheadFactor=" + factorText + " is not a number");
      }
      long minMb = mebibytes(settings, prefix + "minMemoryOverhead", "384m");
      overheadMb = Math.max((long) (factor * heapMb), minMb);
      overheadOrigin =
          prefix
              + "memoryOverhead (unset: Spark's default max("
              + factorText
              + " x "
              + prefix
              + "memory, "
              + minMb
              + "m) = "
              + overheadMb
              + "m)";
    }
    long container = (heapMb + overheadMb) * MIB;
    if (role.equals("executor")) {
      if (Boolean.parseBoolean(
          settings.getOrDefault("spark.memory.offHeap.enabled", "false").strip())) {
        container += bytes(settings, "spark.memory.offHeap.size", "0");
      }
      if (settings.containsKey("spark.executor.pyspark.memory")) {
        container += mebibytes(settings, "spark.executor.pyspark.memory", null) * MIB;
      }
    }
    String javaOptions =
        settings.getOrDefault(prefix + "defaultJavaOptions", "")
            + " "
            + settings.getOrDefault(prefix + "extraJavaOptions", "");
    String optionsKey = prefix + "extraJavaOptions";
    long heap = heapMb * MIB;
    String maxBytesText = lastSystemProperty(javaOptions, "maxbytes");
    long maxBytes =
        maxBytesText == null ? heap : javacppBytes(maxBytesText, heap, optionsKey, MAX_BYTES);
    String physicalText = lastSystemProperty(javaOptions, "maxphysicalbytes");
    long maxPhysical =
        physicalText == null
            ? (maxBytes > 0 ? maxBytes + 3 * heap : 0)
            : javacppBytes(physicalText, heap, optionsKey, MAX_PHYSICAL);
    long reserve = bytes(settings, RESERVE_KEY, DEFAULT_RESERVE);
    String cacheText = lastOption(javaOptions, PROJECTION_CACHE);
    long cacheMb;
    try {
      cacheMb = cacheText == null ? DEFAULT_PROJECTION_CACHE_MB : Long.parseLong(cacheText);
    } catch (NumberFormatException e) {
      throw new NumberFormatException(
          optionsKey
              + ": -D"
              + PROJECTION_CACHE
              + "="
              + cacheText
              + " is not a whole number of MB");
    }
    return new OffHeapBudget(
        role,
        heap,
        overheadMb * MIB,
        overheadOrigin,
        container,
        maxBytes,
        maxBytesText == null
            ? "JavaCPP's default (the heap)"
            : "-D" + MAX_BYTES + "=" + maxBytesText,
        maxPhysical,
        physicalText == null
            ? "JavaCPP's default (maxbytes + 3 x heap)"
            : "-D" + MAX_PHYSICAL + "=" + physicalText,
        reserve,
        cacheMb * MIB);
  }

  /** The largest maxbytes this overhead allows: the overhead less the JVM's native reserve. */
  public long maxBytesAllowed() {
    return overheadBytes - reserveBytes;
  }

  /**
   * The first violated limit as one line naming the settings to change, or empty when ND4J's caps
   * fit: {@code 0 < maxbytes <= memoryOverhead - reserve} and {@code 0 < maxphysicalbytes <=} the
   * container.
   */
  public Optional<String> problem() {
    String options = "spark." + role + ".extraJavaOptions";
    String overheadKey = "spark." + role + ".memoryOverhead";
    if (maxBytes <= 0) {
      return Optional.of(
          String.format(
              Locale.ROOT,
              "ND4J off-heap is unbounded (%s): set -D%s=%s in %s (%s less the %s JVM reserve)",
              maxBytesOrigin,
              MAX_BYTES,
              mib(Math.max(maxBytesAllowed(), 0)),
              options,
              overheadKey,
              mib(reserveBytes)));
    }
    if (maxBytes > maxBytesAllowed()) {
      return Optional.of(
          String.format(
              Locale.ROOT,
              "ND4J off-heap cap %s (%s) does not fit %s: it needs maxbytes + %s JVM reserve (%s) <= the overhead;"
                  + " set %s=%s or lower -D%s to %s in %s",
              mib(maxBytes),
              maxBytesOrigin,
              overheadOrigin,
              mib(reserveBytes),
              RESERVE_KEY,
              overheadKey,
              mibUp(maxBytes + reserveBytes),
              MAX_BYTES,
              maxBytesAllowed() > 0 ? mib(maxBytesAllowed()) : "a positive size",
              options));
    }
    if (maxPhysicalBytes <= 0 || maxPhysicalBytes > containerBytes) {
      return Optional.of(
          String.format(
              Locale.ROOT,
              "ND4J physical-memory cap %s (%s) %s the %s container (spark.%s.memory + %s): set -D%s=%s in %s"
                  + " so ND4J fails with OutOfMemoryError before the cluster manager kills the container",
              maxPhysicalBytes <= 0 ? "0" : mib(maxPhysicalBytes),
              maxPhysicalOrigin,
              maxPhysicalBytes <= 0 ? "does not bound" : "exceeds",
              mib(containerBytes),
              role,
              overheadKey,
              MAX_PHYSICAL,
              mib(containerBytes),
              options));
    }
    if (projectionCacheBytes > maxBytes / 2) {
      return Optional.of(
          String.format(
              Locale.ROOT,
              "ggda's projection cache (-D%s=%d) would take more than half of ND4J's off-heap cap %s (%s),"
                  + " leaving too little for the tasks' arrays: lower -D%s to %d or raise the cap, both in %s",
              PROJECTION_CACHE,
              projectionCacheBytes / MIB,
              mib(maxBytes),
              maxBytesOrigin,
              PROJECTION_CACHE,
              maxBytes / 2 / MIB,
              options));
    }
    return Optional.empty();
  }

  /** A one-line summary for the log. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "%s heap %s, overhead %s, container %s; ND4J maxbytes %s, maxphysicalbytes %s",
        role,
        mib(heapBytes),
        mib(overheadBytes),
        mib(containerBytes),
        mib(maxBytes),
        mib(maxPhysicalBytes));
  }

  /**
   * A size in whole MiB, Spark's and JavaCPP's common unit ("5632m"), rounded down: safe for a cap.
   */
  static String mib(long bytes) {
    return Math.floorDiv(bytes, MIB) + "m";
  }

  /** A size in whole MiB rounded up: safe for a memory request. */
  static String mibUp(long bytes) {
    return -Math.floorDiv(-bytes, MIB) + "m";
  }

  private static final Pattern SYSTEM_PROPERTY = Pattern.compile("-D([\\w.]+)=(\\S+)");

  /**
   * The value of the last -Dorg.bytedeco.javacpp.NAME=... in a JVM option string (JavaCPP accepts
   * either case).
   */
  static String lastSystemProperty(String javaOptions, String name) {
    return lastOption(javaOptions, "org.bytedeco.javacpp." + name);
  }

  /** The value of the last -DPROPERTY=... in a JVM option string, the property's case ignored. */
  static String lastOption(String javaOptions, String property) {
    String value = null;
    Matcher m = SYSTEM_PROPERTY.matcher(javaOptions);
    while (m.find()) {
      if (m.group(1).equalsIgnoreCase(property)) {
        value = m.group(2).replaceAll("^[\"']|[\"']$", "");
      }
    }
    return value;
  }

  /**
   * JavaCPP's own parser, so "8g", "8192m" and "50%" (of the heap) mean what JavaCPP makes of them.
   */
  private static long javacppBytes(String text, long heap, String optionsKey, String property) {
    try {
      return Pointer.parseBytes(text, heap);
    } catch (NumberFormatException e) {
      throw new NumberFormatException(
          optionsKey
              + ": -D"
              + property
              + "="
              + text
              + " is not a size; write it like 4g or 4096m");
    }
  }

  /** A Spark memory setting whose bare numbers are MiB (spark.executor.memory and friends). */
  private static long mebibytes(Map<String, String> settings, String key, String fallback) {
    String text = settings.getOrDefault(key, fallback);
    try {
      return JavaUtils.byteStringAsMb(text.strip());
    } catch (RuntimeException e) {
      throw new NumberFormatException(
          key + "=" + text + " is not a size; write it like 4g or 4096m");
    }
  }

  /** A Spark size setting whose bare numbers are bytes. */
  private static long bytes(Map<String, String> settings, String key, String fallback) {
    String text = settings.getOrDefault(key, fallback);
    try {
      return JavaUtils.byteStringAsBytes(text.strip());
    } catch (RuntimeException e) {
      throw new NumberFormatException(key + "=" + text + " is not a size; write it like 512m");
    }
  }
}
