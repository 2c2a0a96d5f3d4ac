package dev.ggda.apps;

import dev.ggda.config.ConfigLoader;
import dev.ggda.config.ExampleSignal;
import dev.ggda.data.Columns;
import dev.ggda.pipeline.Pipeline;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The rankings `prune --validate` retrains beside attribution: each per-example signal's order of
 * the training rows (most suspicious first) and, with injected flips, the oracle's rows. The
 * validation path already holds the training set on the driver; this adds one double per example
 * and signal.
 */
final class PruneBaselines {
  private PruneBaselines() {}

  /**
   * @param ids the training ids, ascending (the retraining row order)
   * @param refitFraction noise.refit_fraction, for the refit-loss signal
   * @param flipped injected flips, ascending, or null
   */
  static PruneValidation.Baselines of(
      SparkSession spark,
      Pipeline p,
      long[] ids,
      List<ExampleSignal> signals,
      double refitFraction,
      long[] flipped) {
    Map<String, int[]> orders = new LinkedHashMap<>();
    if (!signals.isEmpty()) {
      Dataset<Row> table = ExampleSignals.compute(spark, p.trainData().examples(), p.model());
      if (signals.contains(ExampleSignal.REFIT_LOSS)) {
        table =
            RefitLoss.add(
                spark, p.trainData(), table, refitFraction, rows -> p.trainOn(rows, "refit"));
      }
      String[] cols = signals.stream().map(ExampleSignals::column).toArray(String[]::new);
      double[][] values = new double[signals.size()][ids.length];
      for (Row r : table.select(Columns.EXAMPLE_ID, cols).collectAsList()) {
        int row = position(ids, r.getLong(0));
        for (int s = 0; s < cols.length; s++) {
          values[s][row] = r.getDouble(s + 1);
        }
      }
      for (int s = 0; s < cols.length; s++) {
        orders.put(
            ConfigLoader.yamlName(signals.get(s)), suspiciousFirst(values[s], signals.get(s)));
      }
    }
    int[] oracle = null;
    if (flipped != null) {
      oracle = new int[flipped.length];
      for (int i = 0; i < flipped.length; i++) {
        oracle[i] = position(ids, flipped[i]);
      }
    }
    return new PruneValidation.Baselines(orders, oracle);
  }

  /** Rows by the signal, most suspicious first (margin low first, others high), NaN last. */
  static int[] suspiciousFirst(double[] value, ExampleSignal signal) {
    double sign = signal == ExampleSignal.MARGIN ? 1 : -1;
    Integer[] order = new Integer[value.length];
    double[] key = new double[value.length];
    for (int i = 0; i < value.length; i++) {
      order[i] = i;
      key[i] = Double.isNaN(value[i]) ? Double.POSITIVE_INFINITY : sign * value[i];
    }
    Arrays.sort(order, (a, b) -> key[a] != key[b] ? Double.compare(key[a], key[b]) : a - b);
    return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
  }

  private static int position(long[] ids, long id) {
    int i = Arrays.binarySearch(ids, id);
    if (i < 0) {
      throw new IllegalStateException("example " + id + " is not in the retraining data");
    }
    return i;
  }
}
