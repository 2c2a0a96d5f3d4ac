package dev.ggda.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class OffHeapBudgetTest {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  private static Map<String, String> executor(String memory, String overhead, String javaOptions) {
    Map<String, String> s = new HashMap<>();
    s.put("spark.executor.memory", memory);
    if (overhead != null) {
      s.put("spark.executor.memoryOverhead", overhead);
    }
    if (javaOptions != null) {
      s.put("spark.executor.extraJavaOptions", javaOptions);
    }
    return s;
  }

  @Test
  void derivesSparksDefaultOverheadWhenUnset() {
    // max(0.1 x memory, 384 MiB), Spark's rule.
    OffHeapBudget big = OffHeapBudget.fromSparkSettings("executor", executor("10g", null, null));
    assertEquals((long) (0.1 * 10240) * MIB, big.overheadBytes());
    OffHeapBudget small = OffHeapBudget.fromSparkSettings("executor", executor("2g", null, null));
    assertEquals(384 * MIB, small.overheadBytes());
    Map<String, String> factor = executor("8g", null, null);
    factor.put("spark.executor.memoryOverheadFactor", "0.25");
    assertEquals(2048 * MIB, OffHeapBudget.fromSparkSettings("executor", factor).overheadBytes());
  }

  @Test
  void bareSparkMemoryNumbersAreMebibytes() {
    OffHeapBudget withUnits =
        OffHeapBudget.fromSparkSettings("executor", executor("4g", "3g", null));
    OffHeapBudget bare =
        OffHeapBudget.fromSparkSettings("executor", executor("4096", "3072", null));
    assertEquals(withUnits.heapBytes(), bare.heapBytes());
    assertEquals(3 * GIB, bare.overheadBytes());
    assertEquals(7 * GIB, bare.containerBytes());
  }

  @Test
  void readsTheLastJavacppOptionInEitherSpelling() {
    String options =
        "-XX:+UseG1GC -Dorg.bytedeco.javacpp.maxbytes=1g -Dfoo=bar"
            + " -Dorg.bytedeco.javacpp.maxBytes=2g -Dorg.bytedeco.javacpp.maxPhysicalBytes=10g";
    OffHeapBudget b = OffHeapBudget.fromSparkSettings("executor", executor("8g", "3g", options));
    assertEquals(2 * GIB, b.maxBytes());
    assertEquals(10 * GIB, b.maxPhysicalBytes());
  }

  @Test
  void javacppDefaultsApplyWhenTheOptionsAreAbsent() {
    // JavaCPP 1.5.7: maxbytes = heap, maxphysicalbytes = maxbytes + 3 x heap (probed with -Xmx).
    OffHeapBudget b =
        OffHeapBudget.fromSparkSettings(
            "executor", executor("4g", "6g", "-Dorg.bytedeco.javacpp.maxbytes=1g"));
    assertEquals(GIB + 3 * 4 * GIB, b.maxPhysicalBytes());
    OffHeapBudget none = OffHeapBudget.fromSparkSettings("executor", executor("4g", "6g", null));
    assertEquals(4 * GIB, none.maxBytes());
    // The default cap is the heap: a 10% overhead cannot hold it.
    OffHeapBudget defaults =
        OffHeapBudget.fromSparkSettings("executor", executor("16g", null, null));
    assertTrue(defaults.problem().orElseThrow().contains("spark.executor.memoryOverhead"));
  }

  @Test
  void percentOptionsAreRelativeToTheHeap() {
    OffHeapBudget b =
        OffHeapBudget.fromSparkSettings(
            "executor", executor("8g", "4g", "-Dorg.bytedeco.javacpp.maxbytes=25%"));
    assertEquals(2 * GIB, b.maxBytes());
  }

  @Test
  void fittingLimitsPass() {
    // overhead 6g - 512m reserve = 5.5g allowed; container 16g + 6g = 22g.
    OffHeapBudget b =
        OffHeapBudget.fromSparkSettings(
            "executor",
            executor(
                "16g",
                "6g",
                "-Dorg.bytedeco.javacpp.maxbytes=5632m -Dorg.bytedeco.javacpp.maxphysicalbytes=22g"));
    assertTrue(b.problem().isEmpty(), () -> b.problem().get());
    assertEquals(6 * GIB - 512 * MIB, b.maxBytesAllowed());
  }

  @Test
  void tooLargeMaxBytesNamesTheSettingsAndTheSuggestedFixesWork() {
    Map<String, String> s =
        executor(
            "16g",
            "6g",
            "-Dorg.bytedeco.javacpp.maxbytes=6g -Dorg.bytedeco.javacpp.maxphysicalbytes=22g");
    String problem = OffHeapBudget.fromSparkSettings("executor", s).problem().orElseThrow();
    assertFalse(problem.contains("\n"));
    assertTrue(problem.contains("spark.executor.extraJavaOptions"), problem);
    // Fix 1: the overhead it names.
    Matcher overhead =
        Pattern.compile("set spark\\.executor\\.memoryOverhead=(\\d+m)").matcher(problem);
    assertTrue(overhead.find(), problem);
    Map<String, String> raised = new HashMap<>(s);
    raised.put("spark.executor.memoryOverhead", overhead.group(1));
    raised.put(
        "spark.executor.extraJavaOptions",
        "-Dorg.bytedeco.javacpp.maxbytes=6g -Dorg.bytedeco.javacpp.maxphysicalbytes=22g");
    assertTrue(OffHeapBudget.fromSparkSettings("executor", raised).problem().isEmpty());
    assertEquals(
        6 * GIB + 512 * MIB, OffHeapBudget.fromSparkSettings("executor", raised).overheadBytes());
    // Fix 2: the maxbytes it names.
    Matcher lower =
        Pattern.compile("lower -Dorg\\.bytedeco\\.javacpp\\.maxbytes to (\\d+m)").matcher(problem);
    assertTrue(lower.find(), problem);
    Map<String, String> lowered =
        executor(
            "16g",
            "6g",
            "-Dorg.bytedeco.javacpp.maxbytes="
                + lower.group(1)
                + " -Dorg.bytedeco.javacpp.maxphysicalbytes=22g");
    assertTrue(OffHeapBudget.fromSparkSettings("executor", lowered).problem().isEmpty());
  }

  @Test
  void physicalCapBeyondTheContainerIsRefusedAndTheFixWorks() {
    Map<String, String> s =
        executor(
            "16g",
            "6g",
            "-Dorg.bytedeco.javacpp.maxbytes=4g -Dorg.bytedeco.javacpp.maxphysicalbytes=30g");
    String problem = OffHeapBudget.fromSparkSettings("executor", s).problem().orElseThrow();
    Matcher fix =
        Pattern.compile("set -Dorg\\.bytedeco\\.javacpp\\.maxphysicalbytes=(\\d+m)")
            .matcher(problem);
    assertTrue(fix.find(), problem);
    assertEquals((16 + 6) * 1024 + "m", fix.group(1));
    Map<String, String> fixed =
        executor(
            "16g",
            "6g",
            "-Dorg.bytedeco.javacpp.maxbytes=4g -Dorg.bytedeco.javacpp.maxphysicalbytes="
                + fix.group(1));
    assertTrue(OffHeapBudget.fromSparkSettings("executor", fixed).problem().isEmpty());
  }

  @Test
  void unboundedCapsAreRefused() {
    OffHeapBudget noMax =
        OffHeapBudget.fromSparkSettings(
            "executor",
            executor(
                "8g",
                "4g",
                "-Dorg.bytedeco.javacpp.maxbytes=0 -Dorg.bytedeco.javacpp.maxphysicalbytes=12g"));
    assertTrue(noMax.problem().orElseThrow().contains("unbounded"));
    OffHeapBudget noPhysical =
        OffHeapBudget.fromSparkSettings(
            "executor",
            executor(
                "8g",
                "4g",
                "-Dorg.bytedeco.javacpp.maxbytes=2g -Dorg.bytedeco.javacpp.maxphysicalbytes=0"));
    assertTrue(noPhysical.problem().orElseThrow().contains("maxphysicalbytes"));
  }

  @Test
  void sparkOffHeapPoolWidensTheContainerOnlyWhenEnabled() {
    Map<String, String> s =
        executor(
            "8g",
            "4g",
            "-Dorg.bytedeco.javacpp.maxbytes=2g -Dorg.bytedeco.javacpp.maxphysicalbytes=14g");
    s.put("spark.memory.offHeap.size", "2g");
    assertEquals(12 * GIB, OffHeapBudget.fromSparkSettings("executor", s).containerBytes());
    assertTrue(OffHeapBudget.fromSparkSettings("executor", s).problem().isPresent());
    s.put("spark.memory.offHeap.enabled", "true");
    assertEquals(14 * GIB, OffHeapBudget.fromSparkSettings("executor", s).containerBytes());
    assertTrue(OffHeapBudget.fromSparkSettings("executor", s).problem().isEmpty());
  }

  @Test
  void reserveIsConfigurable() {
    Map<String, String> s =
        executor(
            "8g",
            "3g",
            "-Dorg.bytedeco.javacpp.maxbytes=2560m -Dorg.bytedeco.javacpp.maxphysicalbytes=11g");
    assertTrue(OffHeapBudget.fromSparkSettings("executor", s).problem().isEmpty());
    s.put(OffHeapBudget.RESERVE_KEY, "1g");
    assertTrue(OffHeapBudget.fromSparkSettings("executor", s).problem().isPresent());
  }

  @Test
  void driverRoleReadsDriverSettings() {
    Map<String, String> s = new HashMap<>();
    s.put("spark.driver.memory", "4g");
    s.put("spark.driver.memoryOverhead", "1g");
    s.put(
        "spark.driver.extraJavaOptions",
        "-Dorg.bytedeco.javacpp.maxbytes=2g -Dorg.bytedeco.javacpp.maxphysicalbytes=5g");
    s.put("spark.executor.memoryOverhead", "8g");
    String problem = OffHeapBudget.fromSparkSettings("driver", s).problem().orElseThrow();
    assertTrue(
        problem.contains("spark.driver.memoryOverhead")
            && problem.contains("spark.driver.extraJavaOptions"),
        problem);
  }

  @Test
  void malformedSizesNameTheirSetting() {
    NumberFormatException memory =
        assertThrows(
            NumberFormatException.class,
            () -> OffHeapBudget.fromSparkSettings("executor", executor("lots", "1g", null)));
    assertTrue(memory.getMessage().contains("spark.executor.memory=lots"));
    NumberFormatException option =
        assertThrows(
            NumberFormatException.class,
            () ->
                OffHeapBudget.fromSparkSettings(
                    "executor", executor("4g", "2g", "-Dorg.bytedeco.javacpp.maxbytes=1.5g")));
    assertTrue(
        option.getMessage().contains("spark.executor.extraJavaOptions"), option.getMessage());
  }

  @Test
  void projectionCacheMayTakeAtMostHalfOfTheCap() {
    String caps =
        "-Dorg.bytedeco.javacpp.maxbytes=1536m -Dorg.bytedeco.javacpp.maxphysicalbytes=10g";
    // Default cache 1024 MB > 1536m / 2.
    String problem =
        OffHeapBudget.fromSparkSettings("executor", executor("8g", "2g", caps))
            .problem()
            .orElseThrow();
    Matcher fix =
        Pattern.compile("lower -Dggda\\.projection\\.cache\\.mb to (\\d+)").matcher(problem);
    assertTrue(fix.find(), problem);
    assertEquals(768, Integer.parseInt(fix.group(1)));
    OffHeapBudget smaller =
        OffHeapBudget.fromSparkSettings(
            "executor", executor("8g", "2g", caps + " -Dggda.projection.cache.mb=" + fix.group(1)));
    assertEquals(768 * MIB, smaller.projectionCacheBytes());
    assertTrue(smaller.problem().isEmpty(), () -> smaller.problem().get());
  }
}
