package dev.ggda.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * Stable example ids (DESIGN section 2).
 *
 * <p>When the table has an id column, its values are the ids and must be unique. Otherwise the id
 * is derived from the row's content, so it is the same however Spark splits the files into
 * partitions, and the same in Parquet, CSV or LibSVM:
 *
 * <ol>
 *   <li>{@code id = xxhash64(label as double, features as array<float>) & Long.MAX_VALUE} (Spark's
 *       xxhash64, seed 42; non-negative so ids read naturally and never clash with -1 sentinels).
 *       The group column is deliberately left out, so adding a grouping does not renumber the data.
 *   <li>Rows sharing a hash (exact duplicates, or a true 64-bit collision) are found with one
 *       aggregation over the id column; each such row gets {@code xxhash64(id, k) & Long.MAX_VALUE}
 *       where {@code k} is its rank among the rows sharing the hash ordered by (label, features,
 *       group). Rows that tie on all of these are identical, so which one gets which rank does not
 *       matter.
 * </ol>
 *
 * A re-hashed id could in principle hit another row's id; with 63-bit ids that chance is about
 * (duplicates x rows) / 2^63, negligible at any realistic size.
 */
final class ExampleIds {
  private static final long NON_NEGATIVE = Long.MAX_VALUE;

  private ExampleIds() {}

  /** The working frame with {@code example_id} derived from content, duplicates resolved. */
  static Dataset<Row> derive(Dataset<Row> working, boolean hasGroup) {
    Column hash =
        xxhash64(col(TableReader.LABEL_D), col(Columns.FEATURES)).bitwiseAND(lit(NON_NEGATIVE));
    Dataset<Row> hashed = working.withColumn(Columns.EXAMPLE_ID, hash);
    List<Long> shared = new ArrayList<>();
    for (Row r : duplicated(hashed).collectAsList()) shared.add(r.getLong(0));
    if (shared.isEmpty()) return hashed;

    Column isShared = col(Columns.EXAMPLE_ID).isInCollection(shared);
    List<Column> order = new ArrayList<>(List.of(col(TableReader.LABEL_D), col(Columns.FEATURES)));
    if (hasGroup) order.add(col(Columns.GROUP));
    Column rank =
        row_number()
            .over(Window.partitionBy(Columns.EXAMPLE_ID).orderBy(order.toArray(Column[]::new)));
    Dataset<Row> rehashed =
        hashed
            .filter(isShared)
            .withColumn(
                Columns.EXAMPLE_ID,
                xxhash64(col(Columns.EXAMPLE_ID), rank).bitwiseAND(lit(NON_NEGATIVE)));
    return hashed.filter(not(isShared)).unionByName(rehashed);
  }

  /** Ids that occur more than once (nulls aside), as a one-column frame. */
  static Dataset<Row> duplicated(Dataset<Row> frame) {
    return frame
        .filter(col(Columns.EXAMPLE_ID).isNotNull())
        .groupBy(Columns.EXAMPLE_ID)
        .agg(count(lit(1)).as("n"))
        .filter(col("n").gt(1))
        .select(Columns.EXAMPLE_ID);
  }

  /** Raises when an id column holds the same id twice, naming the smallest such id. */
  static void requireUnique(Dataset<Row> frame, String idCol, Source src) {
    Row r = duplicated(frame).agg(min(Columns.EXAMPLE_ID), count(lit(1))).head();
    if (r.isNullAt(0)) return;
    long distinct = r.getLong(1);
    throw src.error(
        "id column '"
            + idCol
            + "' holds example_id "
            + r.getLong(0)
            + " more than once ("
            + distinct
            + " ids repeated in all); make ids unique, or set "
            + src.key("id_col")
            + ": null to derive ids from content");
  }
}
