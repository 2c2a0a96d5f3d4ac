package dev.ggda.grouping;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The grouping of a training set (DESIGN.md section 6: {@code groups/} and {@code group_stats/}).
 *
 * @param assignment (example_id long, group_id long): every training example exactly once, group
 *     ids dense in 0..count-1; persisted (it is costly to recompute and every later stage reads it)
 * @param stats (group_id long, size long, label_counts array&lt;long&gt; of length classes,
 *     mean_loss double under the final model, majority_label int); lazy, one row per group
 * @param count number of groups
 */
public record Groups(Dataset<Row> assignment, Dataset<Row> stats, long count) {
  public static final String GROUP_ID = "group_id";
  public static final String SIZE = "size";
  public static final String LABEL_COUNTS = "label_counts";
  public static final String MEAN_LOSS = "mean_loss";
  public static final String MAJORITY_LABEL = "majority_label";
}
