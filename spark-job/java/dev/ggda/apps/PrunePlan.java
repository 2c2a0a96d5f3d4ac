package dev.ggda.apps;

import dev.ggda.config.PruneRankBy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which groups `ggda prune` drops. Groups are walked in ascending order of their rank_by value
 * (most harmful first, then the useless ones near zero), ties by group id, against a budget of
 * round(fraction * n) examples (at least 1): a group is dropped when it fits what is left of the
 * budget (and, with a threshold, when its value is below it), otherwise it is kept and the walk
 * goes on. The dropped count never exceeds the budget, and a few large groups (k-means groups are
 * not all the same size) cannot make it overshoot. Spark-free.
 *
 * @param order every group in rank order (ascending rank value)
 * @param dropped for each group of {@code order}, whether it is dropped
 * @param droppedExamples examples in the dropped groups
 * @param totalExamples examples in all groups
 * @param targetExamples the budget: round(fraction * n), at least 1
 */
public record PrunePlan(
    List<GroupValue> order,
    boolean[] dropped,
    long droppedExamples,
    long totalExamples,
    long targetExamples,
    PruneRankBy rankBy) {

  public static PrunePlan plan(
      List<GroupValue> groups, PruneRankBy rankBy, double fraction, Double threshold) {
    if (!(fraction > 0 && fraction < 1)) {
      throw new IllegalArgumentException("fraction must be in (0, 1), got " + fraction);
    }
    List<GroupValue> order = new ArrayList<>(groups);
    order.sort(
        Comparator.comparingDouble((GroupValue g) -> rankValue(g, rankBy))
            .thenComparingLong(GroupValue::groupId));
    long total = 0;
    for (GroupValue g : order) {
      total += g.size();
    }
    long target = Math.max(1, Math.round(fraction * total));
    boolean[] dropped = new boolean[order.size()];
    long droppedExamples = 0;
    for (int i = 0; i < order.size() && droppedExamples < target; i++) {
      GroupValue g = order.get(i);
      boolean below = threshold == null || rankValue(g, rankBy) < threshold;
      if (below && droppedExamples + g.size() <= target) {
        dropped[i] = true;
        droppedExamples += g.size();
      }
    }
    return new PrunePlan(List.copyOf(order), dropped, droppedExamples, total, target, rankBy);
  }

  /** The value a group is ranked by; NaN sorts as +infinity (never dropped first). */
  public static double rankValue(GroupValue g, PruneRankBy rankBy) {
    double v =
        switch (rankBy) {
          case VALUE -> g.value();
          case VALUE_PER_EXAMPLE -> g.valuePerExample();
          case ABS_VALUE_PER_EXAMPLE -> Math.abs(g.valuePerExample());
        };
    return Double.isNaN(v) ? Double.POSITIVE_INFINITY : v;
  }

  /** The dropped groups, in rank order. */
  public List<GroupValue> droppedGroups() {
    return select(true);
  }

  /** The kept groups, in rank order. */
  public List<GroupValue> keptGroups() {
    return select(false);
  }

  /** 1-based positions in the rank order of the dropped (or kept) groups. */
  public List<Long> positions(boolean ofDropped) {
    List<Long> p = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      if (dropped[i] == ofDropped) {
        p.add((long) i + 1);
      }
    }
    return p;
  }

  private List<GroupValue> select(boolean ofDropped) {
    List<GroupValue> out = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      if (dropped[i] == ofDropped) {
        out.add(order.get(i));
      }
    }
    return out;
  }

  public int dropCount() {
    int c = 0;
    for (boolean d : dropped) {
      c += d ? 1 : 0;
    }
    return c;
  }

  public long keptExamples() {
    return totalExamples - droppedExamples;
  }

  public double droppedFraction() {
    return totalExamples == 0 ? 0 : (double) droppedExamples / totalExamples;
  }
}
