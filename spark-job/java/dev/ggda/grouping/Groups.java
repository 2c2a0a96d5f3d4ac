package dev.ggda.grouping;

import dev.ggda.data.Columns;
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
 * @param stored the k-means centres kept in incremental.store that assigned the groups, else null
 */
public record Groups(
    Dataset<Row> assignment, Dataset<Row> stats, long count, StoredClustering stored) {
  public Groups(Dataset<Row> assignment, Dataset<Row> stats, long count) {
    this(assignment, stats, count, null);
  }

  /**
   * (group_id, group_key) for groups named by the user's column, else null; from the persisted
   * assignment (the stats would run the model over the training set again).
   */
  public Dataset<Row> keys() {
    return hasKey(assignment)
        ? assignment.select(Columns.GROUP_ID, Columns.GROUP_KEY).distinct()
        : null;
  }

  /** (group_id, group_key) of a group-level table that has the key column, else null. */
  public static Dataset<Row> keys(Dataset<Row> groupTable) {
    return hasKey(groupTable) ? groupTable.select(Columns.GROUP_ID, Columns.GROUP_KEY) : null;
  }

  public static boolean hasKey(Dataset<Row> table) {
    return table != null && java.util.Arrays.asList(table.columns()).contains(Columns.GROUP_KEY);
  }
}
