package dev.ggda.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Reads a run's scores/ table and compares two runs pair by pair, for the integration tests. */
public final class ScoreTables {
  private ScoreTables() {}

  /** score by (target_id, group_id) of the parquet scores/ table under a run's output path. */
  public static Map<Long, Map<Long, Double>> read(SparkSession spark, String runPath) {
    Map<Long, Map<Long, Double>> m = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(runPath + "/scores")
            .select("target_id", "group_id", "score")
            .collectAsList()) {
      Double previous =
          m.computeIfAbsent(r.getLong(0), t -> new HashMap<>()).put(r.getLong(1), r.getDouble(2));
      assertEquals(
          null,
          previous,
          () -> "pair (" + r.getLong(0) + ", " + r.getLong(1) + ") twice in " + runPath);
    }
    return m;
  }

  /**
   * Asserts the same (target, group) pairs with scores equal to {@code relative} times the larger
   * of |score| and a floor (1e-6 of the largest |score|, so scores that are rounding noise around
   * zero compare absolutely). Returns the largest relative difference seen.
   */
  public static double assertSame(
      Map<Long, Map<Long, Double>> expected,
      Map<Long, Map<Long, Double>> actual,
      double relative,
      String what) {
    assertFalse(expected.isEmpty(), what + ": no scores");
    assertEquals(expected.keySet(), actual.keySet(), what + ": targets");
    double scale = 0;
    for (Map<Long, Double> byGroup : expected.values()) {
      for (double s : byGroup.values()) {
        scale = Math.max(scale, Math.abs(s));
      }
    }
    double floor = 1e-6 * scale;
    double worst = 0;
    for (var t : expected.entrySet()) {
      Map<Long, Double> got = actual.get(t.getKey());
      assertEquals(t.getValue().keySet(), got.keySet(), what + ": groups of target " + t.getKey());
      for (var g : t.getValue().entrySet()) {
        double x = g.getValue();
        double y = got.get(g.getKey());
        double rel = Math.abs(x - y) / Math.max(floor, Math.abs(x));
        worst = Math.max(worst, rel);
        assertEquals(
            x,
            y,
            relative * Math.max(floor, Math.abs(x)),
            what + ": score of group " + g.getKey() + " for target " + t.getKey());
      }
    }
    return worst;
  }
}
