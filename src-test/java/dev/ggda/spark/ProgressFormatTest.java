package dev.ggda.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ProgressFormatTest {
  /** Reads a count written by ProgressFormat.count back into a number. */
  private static double parseCount(String s) {
    char unit = s.charAt(s.length() - 1);
    double scale =
        switch (unit) {
          case 'k' -> 1e3;
          case 'M' -> 1e6;
          case 'G' -> 1e9;
          default -> 1;
        };
    return scale == 1
        ? Double.parseDouble(s)
        : Double.parseDouble(s.substring(0, s.length() - 1)) * scale;
  }

  @Test
  void countsAreShortAndAccurateToTheirLastDigit() {
    for (long n :
        new long[] {0, 7, 999, 1_000, 45_249, 999_949, 1_234_567, 987_654_321, 12_345_678_901L}) {
      String s = ProgressFormat.count(n);
      assertTrue(s.length() <= 7, s);
      // One decimal for k, two for M and G: within half a unit of the last digit shown.
      double tolerance = n < 1_000 ? 0 : n < 1_000_000 ? 50 : n < 1_000_000_000 ? 5_000 : 5_000_000;
      assertEquals(n, parseCount(s), tolerance, s);
    }
  }

  @Test
  void rateIsRowsPerSecond() {
    long rows = 123_456;
    long millis = 2_500;
    assertEquals(
        rows / 2.5, parseCount(ProgressFormat.rate(rows, millis).replace(" rows/s", "")), 50);
    assertEquals("-", ProgressFormat.rate(10, 0));
  }

  @Test
  void durationsRoundToTheirLastField() {
    assertEquals("4.2s", ProgressFormat.duration(4_200));
    assertEquals("42s", ProgressFormat.duration(42_000));
    assertEquals("1m05s", ProgressFormat.duration(65_000));
    assertEquals("59m59s", ProgressFormat.duration(3_599_000));
    assertEquals("1h02m", ProgressFormat.duration(3_725_000));
    assertEquals("0.0s", ProgressFormat.duration(-5));
  }

  @Test
  void etaAssumesTheRemainingTasksTakeTheAverageSoFar() {
    assertEquals(30_000, ProgressFormat.etaMillis(10, 40, 10_000));
    assertEquals(0, ProgressFormat.etaMillis(40, 40, 10_000));
    assertEquals(-1, ProgressFormat.etaMillis(0, 40, 10_000));
  }

  private static final Pattern RUNNING =
      Pattern.compile(
          "stage (\\d+) \\((.*)\\): (\\d+)/(\\d+) tasks \\((\\d+)%\\), (\\S+) rows, (\\S+) rows/s, (\\S+) elapsed, ETA (\\S+)");

  @Test
  void runningLineCarriesEveryFigure() {
    String line =
        ProgressFormat.running(
            ProgressFormat.stageLabel(12, 0, "count at X.java:3"), 10, 40, 0, 500_000, 20_000);
    Matcher m = RUNNING.matcher(line);
    assertTrue(m.matches(), line);
    assertEquals("12", m.group(1));
    assertEquals("count at X.java:3", m.group(2));
    assertEquals(10, Integer.parseInt(m.group(3)));
    assertEquals(40, Integer.parseInt(m.group(4)));
    assertEquals(25, Integer.parseInt(m.group(5)));
    assertEquals(500_000, parseCount(m.group(6)), 50);
    assertEquals(25_000, parseCount(m.group(7)), 50);
    assertEquals(ProgressFormat.duration(20_000), m.group(8));
    assertEquals(ProgressFormat.duration(60_000), m.group(9));
    assertTrue(
        ProgressFormat.running("stage 1 (x)", 1, 2, 3, 0, 1).endsWith(", 3 failed task attempts"));
    assertTrue(ProgressFormat.stageLabel(4, 2, "y").startsWith("stage 4.2 "));
  }

  @Test
  void failedStageLineKeepsOnlyTheFirstLineOfTheReason() {
    String line =
        ProgressFormat.finished(
            "stage 3 (x)", 2, 5, 4, 10, 12_000, "Job aborted: boom\n\tat Foo.bar(Foo.java:1)");
    assertTrue(line.startsWith("stage 3 (x) failed after 12s: 2/5 tasks"), line);
    assertTrue(line.endsWith(": Job aborted: boom"), line);
    assertFalse(line.contains("\n"));
  }

  @Test
  void throttleEmitsAtMostOneLinePerIntervalPlusAFinalLine() {
    StageProgressLog log = new StageProgressLog(10_000, 2_000);
    log.stageStarted(5, 0, "mapPartitions at F.java:9", 100, 0);
    List<String> lines = new ArrayList<>();
    List<Long> times = new ArrayList<>();
    // One task a second, 100 rows each, for 35 s.
    for (int t = 1; t <= 35; t++) {
      final long now = t * 1_000L;
      log.taskEnded(5, 0, true, 100, now)
          .ifPresent(
              line -> {
                lines.add(line);
                times.add(now);
              });
    }
    assertEquals(List.of(10_000L, 20_000L, 30_000L), times);
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = RUNNING.matcher(lines.get(i));
      assertTrue(m.matches(), lines.get(i));
      int done = (int) (times.get(i) / 1_000);
      assertEquals(done, Integer.parseInt(m.group(3)));
      assertEquals(100, Integer.parseInt(m.group(4)));
      assertEquals(done * 100, parseCount(m.group(6)), 0.5);
    }
    assertEquals(35, log.stage(5, 0).orElseThrow().done());
    assertEquals(3_500, log.stage(5, 0).orElseThrow().rows());
    String last = log.stageEnded(5, 0, null, 36_000).orElseThrow();
    assertTrue(last.startsWith("stage 5 (mapPartitions at F.java:9) done: 35/100 tasks"), last);
    assertTrue(log.stage(5, 0).isEmpty());
  }

  @Test
  void quickStagesStayQuietUnlessTheyFail() {
    StageProgressLog log = new StageProgressLog(10_000, 2_000);
    log.stageStarted(1, 0, "a", 2, 0);
    log.taskEnded(1, 0, true, 5, 500);
    log.taskEnded(1, 0, false, 0, 700);
    log.taskEnded(1, 0, true, 5, 900);
    assertEquals(Optional.empty(), log.stageEnded(1, 0, null, 1_000));
    log.stageStarted(1, 1, "a", 2, 2_000);
    String failed = log.stageEnded(1, 1, "FetchFailed", 2_500).orElseThrow();
    assertTrue(failed.startsWith("stage 1.1 (a) failed after"), failed);
    log.stageStarted(2, 0, "b", 2, 0);
    log.taskEnded(2, 0, true, 5, 500);
    log.taskEnded(2, 0, false, 0, 700);
    log.taskEnded(2, 0, true, 5, 900);
    log.taskEnded(2, 0, true, 5, 950); // a speculative duplicate: done stays at the total
    String slow = log.stageEnded(2, 0, null, 2_000).orElseThrow();
    assertTrue(
        slow.contains("done: 2/2 tasks, 15 rows") && slow.endsWith(", 1 failed task attempt"),
        slow);
    assertEquals(Optional.empty(), log.taskEnded(9, 0, true, 1, 99_000)); // never started: ignored
  }
}
