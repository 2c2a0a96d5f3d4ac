package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.PruneRankBy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PrunePlanTest {
  static List<GroupValue> randomGroups(long seed, int m) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<GroupValue> g = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      long size = 1 + rnd.nextInt(30);
      double value = rnd.nextGaussian() * 10;
      g.add(new GroupValue(1000 - i * 3L, size, value, value / size));
    }
    return g;
  }

  static List<Long> ids(List<GroupValue> g) {
    return g.stream().map(GroupValue::groupId).toList();
  }

  @Test
  void handMadeCase() {
    // Sizes 4, 3, 2, 1 = 10 examples; per-example values: g1 -1, g2 +2, g3 -0.5, g4 0.
    List<GroupValue> g =
        List.of(
            new GroupValue(1, 4, -4, -1),
            new GroupValue(2, 3, 6, 2),
            new GroupValue(3, 2, -1, -0.5),
            new GroupValue(4, 1, 0, 0));
    // Budget 5: g1 (4) fits, g3 (2) would make 6 and is kept, g4 (1) makes 5.
    PrunePlan p = PrunePlan.plan(g, PruneRankBy.VALUE_PER_EXAMPLE, 0.5, null);
    assertEquals(List.of(1L, 4L), ids(p.droppedGroups()));
    assertEquals(List.of(3L, 2L), ids(p.keptGroups()));
    assertEquals(List.of(1L, 3L), p.positions(true));
    assertEquals(5, p.droppedExamples());
    assertEquals(5, p.targetExamples());
    assertEquals(
        List.of(1L),
        ids(PrunePlan.plan(g, PruneRankBy.VALUE_PER_EXAMPLE, 0.4, null).droppedGroups()));
    // By summed value the order is g1 (-4), g3 (-1), g4 (0), g2 (6); the threshold -0.5 stops
    // before g4.
    PrunePlan r = PrunePlan.plan(g, PruneRankBy.VALUE, 0.9, -0.5);
    assertEquals(List.of(1L, 3L), ids(r.droppedGroups()));
    assertEquals(List.of(4L, 2L), ids(r.keptGroups()));
    // By |value| per example the order is g4 (0), g3 (0.5), g1 (1), g2 (2): the least influential
    // go
    // first; budget 5 takes g4 and g3 (3 examples), then g1 (4) and g2 (3) would overshoot.
    PrunePlan a = PrunePlan.plan(g, PruneRankBy.ABS_VALUE_PER_EXAMPLE, 0.5, null);
    assertEquals(List.of(4L, 3L), ids(a.droppedGroups()));
    assertEquals(3, a.droppedExamples());
  }

  /** The brute force's own ranking key, written out per rule. */
  private static double key(PruneRankBy by, GroupValue g) {
    if (by == PruneRankBy.VALUE) {
      return g.value();
    }
    return by == PruneRankBy.ABS_VALUE_PER_EXAMPLE
        ? Math.abs(g.value() / g.size())
        : g.valuePerExample();
  }

  @Test
  void matchesBruteForceOnRandomGroups() {
    for (long seed = 0; seed < 30; seed++) {
      List<GroupValue> groups = randomGroups(seed, 50);
      SplittableRandom rnd = new SplittableRandom(seed + 100);
      double fraction = 0.05 + 0.9 * rnd.nextDouble();
      Double threshold = seed % 3 == 0 ? rnd.nextGaussian() : null;
      for (PruneRankBy by : PruneRankBy.values()) {
        PrunePlan plan = PrunePlan.plan(groups, by, fraction, threshold);
        long n = groups.stream().mapToLong(GroupValue::size).sum();
        long target = Math.max(1, Math.round(fraction * n));
        // Brute force: every subset-sum check done from scratch for each group in value order.
        List<GroupValue> sorted = new ArrayList<>(groups);
        sorted.sort(
            (a, b) -> {
              double va = key(by, a);
              double vb = key(by, b);
              return va != vb ? Double.compare(va, vb) : Long.compare(a.groupId(), b.groupId());
            });
        Set<Long> expected = new HashSet<>();
        for (int i = 0; i < sorted.size(); i++) {
          GroupValue g = sorted.get(i);
          long before = 0;
          for (int j = 0; j < i; j++) {
            if (expected.contains(sorted.get(j).groupId())) before += sorted.get(j).size();
          }
          double v = key(by, g);
          if (before < target
              && before + g.size() <= target
              && (threshold == null || v < threshold)) {
            expected.add(g.groupId());
          }
        }
        long dropped =
            groups.stream()
                .filter(g -> expected.contains(g.groupId()))
                .mapToLong(GroupValue::size)
                .sum();
        assertEquals(expected, new HashSet<>(ids(plan.droppedGroups())));
        assertEquals(dropped, plan.droppedExamples());
        assertTrue(dropped <= target);
        assertEquals(n - dropped, plan.keptExamples());
        assertEquals(groups.size(), plan.droppedGroups().size() + plan.keptGroups().size());
        if (threshold == null) {
          // Groups of size 1..30 over 50 groups: the budget is filled to within one small group.
          assertTrue(target - dropped < 30, target + " vs " + dropped);
        }
      }
    }
  }
}
