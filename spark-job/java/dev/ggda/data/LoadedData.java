package dev.ggda.data;

import java.util.Arrays;
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
 * @param sources (example_id, source_file): the input file each example was read from, lazy; null
 *     for data not read from files (synthetic, IDX, a caller's Dataset)
 */
public record LoadedData(
    Dataset<Row> examples, int dim, int classes, long count, Dataset<Row> sources) {
  public LoadedData(Dataset<Row> examples, int dim, int classes, long count) {
    this(examples, dim, classes, count, null);
  }

  /** The same table with other (e.g. persisted or relabelled) examples, its sources kept. */
  public LoadedData withExamples(Dataset<Row> replacement) {
    return new LoadedData(replacement, dim, classes, count, sources);
  }

  /**
   * The sources, which incremental.store works by: an input error when the data was not read from
   * files.
   */
  public Dataset<Row> requireSources() {
    if (sources == null) {
      throw new dev.ggda.InputException(
          "incremental.store: the training data was not read from files (a caller's Dataset);"
              + " load data.train from parquet, csv or libsvm files, or set incremental.store: null");
    }
    return sources;
  }

  public boolean hasGroup() {
    return Arrays.asList(examples.columns()).contains(Columns.GROUP);
  }
}
