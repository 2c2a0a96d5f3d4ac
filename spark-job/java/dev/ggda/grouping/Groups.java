package dev.ggda.grouping;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The grouping of a training set (DESIGN.md section 6: {@code groups/} and {@code group_stats/}).
 *
 * <p>With {@code group.method: column} every group-level table also carries {@code group_key}, the
 * user's group value (a data source, vendor, shard) the dense id stands for, so no output needs a
 * join back through the examples to say which group is which.
 *
 * @param assignment (example_id long, group_id long[, group_key string]): every training example
 *     exactly once, group ids dense in 0..count-1; persisted (it is costly to recompute and every
 *     later stage reads it)
 * @param stats (group_id long, size long, label_counts array&lt;long&gt; of length classes,
 *     mean_loss double under the final model, majority_label int[, group_key string]); lazy, one
 *     row per group
 * @param count number of groups
 */
public record Groups(Dataset<Row> assignment, Dataset<Row> stats, long count) {
  public static final String GROUP_ID = "group_id";
  /** The user's group value a group id stands for (group.method column only; null for a null value). */
  public static final String GROUP_KEY = "group_key";
  public static final String SIZE = "size";
  public static final String LABEL_COUNTS = "label_counts";
  public static final String MEAN_LOSS = "mean_loss";
  public static final String MAJORITY_LABEL = "majority_label";

  /**
   * (group_id, group_key) for groups named by the user's column, else null; from the persisted
   * assignment (the stats would run the model over the training set again).
   */
  public Dataset<Row> keys() {
    return hasKey(assignment) ? assignment.select(GROUP_ID, GROUP_KEY).distinct() : null;
  }

  /** (group_id, group_key) of a group-level table that has the key column, else null. */
  public static Dataset<Row> keys(Dataset<Row> groupTable) {
    return hasKey(groupTable) ? groupTable.select(GROUP_ID, GROUP_KEY) : null;
  }

  public static boolean hasKey(Dataset<Row> table) {
    return table != null && java.util.Arrays.asList(table.columns()).contains(GROUP_KEY);
  }
}
