package dev.ggda.apps;

import dev.ggda.config.PruneRankBy;
import dev.ggda.math.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What `ggda prune --validate` retrains (Spark-free): for every fraction f and seed s, the training
 * rows left by attribution pruning at f, by random pruning of the same number of examples (seeded
 * by s), by each per-example baseline ranking dropping the same number of its most suspicious
 * examples, the full data, and with injected flips the oracle that drops exactly the flipped
 * examples; and the mean and standard deviation of the accuracies that come back.
 */
public final class PruneValidation {
  public static final String ATTRIBUTION = "attribution";
  public static final String RANDOM = "random";
  public static final String FULL = "full";
  public static final String ORACLE = "oracle";
  private static final long RANDOM_SALT = 0x72616e646f6dL;

  /** One retraining: the rows (positions in id order) to train on and the training seed. */
  public record Trial(
      String strategy, double fraction, int seedIndex, long trainSeed, int[] rows, long dropped) {
    public String id() {
      return strategy + "-f" + fraction + "-s" + seedIndex;
    }
  }

  /** A prune/validation row. */
  public record Point(
      double fraction, String strategy, double accuracyMean, double accuracyStd, int seeds) {}

  private PruneValidation() {}

  /** Rankings besides attribution: per-example orders and the oracle's rows (or null). */
  public record Baselines(Map<String, int[]> dropOrders, int[] oracleDrops) {
    public static Baselines none() {
      return new Baselines(Map.of(), null);
    }
  }

  /**
   * @param ids training example ids, ascending (the row order of the retraining data)
   * @param groupOf group id of each row
   * @param values group_values rows
   * @param baselines each drop order lists rows most suspicious first; a baseline at fraction f
   *     drops as many rows as attribution pruning did
   */
  public static List<Trial> runs(
      long[] ids,
      long[] groupOf,
      List<GroupValue> values,
      PruneRankBy rankBy,
      List<Double> fractions,
      int seeds,
      long baseSeed,
      Baselines baselines) {
    List<Trial> runs = new ArrayList<>();
    for (int s = 0; s < seeds; s++) {
      runs.add(new Trial(FULL, 0.0, s, baseSeed + s, all(ids.length), 0));
      if (baselines.oracleDrops() != null) {
        int[] kept =
            keepAllBut(ids.length, baselines.oracleDrops(), baselines.oracleDrops().length);
        runs.add(new Trial(ORACLE, 0.0, s, baseSeed + s, kept, baselines.oracleDrops().length));
      }
    }
    for (double f : fractions) {
      PrunePlan plan = PrunePlan.plan(values, rankBy, f, null);
      Set<Long> dropped = new HashSet<>();
      for (GroupValue g : plan.droppedGroups()) {
        dropped.add(g.groupId());
      }
      int[] kept =
          Arrays.stream(indices(ids.length)).filter(r -> !dropped.contains(groupOf[r])).toArray();
      long droppedCount = ids.length - kept.length;
      for (int s = 0; s < seeds; s++) {
        runs.add(new Trial(ATTRIBUTION, f, s, baseSeed + s, kept, droppedCount));
        runs.add(
            new Trial(
                RANDOM,
                f,
                s,
                baseSeed + s,
                randomKeep(ids, (int) droppedCount, Seeds.mix(RANDOM_SALT, baseSeed + s)),
                droppedCount));
        for (Map.Entry<String, int[]> b : baselines.dropOrders().entrySet()) {
          int[] keptB = keepAllBut(ids.length, b.getValue(), (int) droppedCount);
          runs.add(new Trial(b.getKey(), f, s, baseSeed + s, keptB, droppedCount));
        }
      }
    }
    return runs;
  }

  /** All rows but the first {@code drop} of {@code order}, in row order. */
  static int[] keepAllBut(int n, int[] order, int drop) {
    if (drop > order.length) {
      throw new IllegalArgumentException("cannot drop " + drop + " of " + order.length + " rows");
    }
    boolean[] gone = new boolean[n];
    for (int i = 0; i < drop; i++) {
      gone[order[i]] = true;
    }
    return Arrays.stream(indices(n)).filter(r -> !gone[r]).toArray();
  }

  /** All rows but the {@code drop} whose seeded key of the id is smallest, in row order. */
  static int[] randomKeep(long[] ids, int drop, long seed) {
    Integer[] order = new Integer[ids.length];
    long[] key = new long[ids.length];
    for (int r = 0; r < ids.length; r++) {
      order[r] = r;
      key[r] = LabelFlips.key(seed, ids[r]);
    }
    Arrays.sort(
        order,
        (a, b) -> key[a] != key[b] ? Long.compare(key[a], key[b]) : Long.compare(ids[a], ids[b]));
    boolean[] gone = new boolean[ids.length];
    for (int i = 0; i < drop; i++) {
      gone[order[i]] = true;
    }
    return Arrays.stream(indices(ids.length)).filter(r -> !gone[r]).toArray();
  }

  /**
   * Mean and sample standard deviation (n - 1; 0 for one seed) per (strategy, fraction). The full
   * data's figure is repeated at every validated fraction, as the reference line of the plot.
   */
  public static List<Point> summarise(List<Trial> runs, double[] accuracy, List<Double> fractions) {
    Map<String, List<Double>> by = new HashMap<>();
    List<String> strategies = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      Trial r = runs.get(i);
      by.computeIfAbsent(r.strategy() + "@" + r.fraction(), k -> new ArrayList<>())
          .add(accuracy[i]);
      if (!strategies.contains(r.strategy())) {
        strategies.add(r.strategy());
      }
    }
    List<Point> points = new ArrayList<>();
    for (double f : fractions) {
      for (String strategy : strategies) {
        // Full data and the oracle do not depend on the fraction: repeated as reference lines.
        boolean reference = strategy.equals(FULL) || strategy.equals(ORACLE);
        points.add(point(f, strategy, by.get(strategy + "@" + (reference ? 0.0 : f))));
      }
    }
    return points;
  }

  static Point point(double fraction, String strategy, List<Double> acc) {
    double mean = 0;
    for (double a : acc) {
      mean += a;
    }
    mean /= acc.size();
    double ss = 0;
    for (double a : acc) {
      ss += (a - mean) * (a - mean);
    }
    double std = acc.size() > 1 ? Math.sqrt(ss / (acc.size() - 1)) : 0.0;
    return new Point(fraction, strategy, mean, std, acc.size());
  }

  private static int[] all(int n) {
    return indices(n);
  }

  private static int[] indices(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }
}
