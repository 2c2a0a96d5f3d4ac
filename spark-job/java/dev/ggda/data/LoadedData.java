package dev.ggda.data;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A validated input table.
 *
 * <p>{@code examples} has the canonical schema of {@link Columns}; it is lazy (not persisted): the
 * caller persists it when it makes several passes. Recomputing it gives the same rows and ids,
 * since every reader is deterministic.
 *
 * @param examples example_id, label, features, and group when the source has a group column
 * @param dim number of features per example
 * @param classes number of classes: the configured value, or max label + 1
 * @param count number of examples (after {@code limit})
 */
public record LoadedData(Dataset<Row> examples, int dim, int classes, long count) {
  public boolean hasGroup() {
    return java.util.Arrays.asList(examples.columns()).contains(Columns.GROUP);
  }
}
