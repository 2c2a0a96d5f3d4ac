package dev.ggda.evaluation;

import static org.apache.spark.sql.functions.col;

import dev.ggda.data.Columns;
import dev.ggda.spark.Ranks;
import java.util.Arrays;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Positions of a training set too large for the driver: (example_id, position), position the rank
 * of the example id from 0, computed and kept on the executors. Retraining subsets are sorted
 * positions, as on the local path (where position i is the i-th smallest id too), so both paths
 * retrain the same rows; the driver never holds the ids.
 */
final class Positions {
  static final String POSITION = "position";

  private Positions() {}

  /** Persisted; unpersist it when the evaluation is done. */
  static Dataset<Row> of(SparkSession spark, Dataset<Row> examples) {
    return Ranks.rank(spark, examples.select(Columns.EXAMPLE_ID), col(Columns.EXAMPLE_ID).asc())
        .select(col(Columns.EXAMPLE_ID), col(Columns.RANK).minus(1).as(POSITION))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** The examples at the given sorted positions. */
  static Dataset<Row> select(
      Dataset<Row> examples, Dataset<Row> positions, Broadcast<int[]> sortedPositions) {
    Dataset<Row> kept =
        positions
            .filter(
                (FilterFunction<Row>)
                    r -> Arrays.binarySearch(sortedPositions.value(), (int) r.getLong(1)) >= 0)
            .select(Columns.EXAMPLE_ID);
    return examples.join(kept, Columns.EXAMPLE_ID, "left_semi");
  }
}
