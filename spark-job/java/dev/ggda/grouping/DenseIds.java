package dev.ggda.grouping;

import static org.apache.spark.sql.functions.col;

import dev.ggda.data.Columns;
import java.util.Arrays;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Dense group ids: a group's id is the rank of its key among the distinct keys that occur, in
 * sorted key order. Ranking the keys that occur (not the keys that could) is what keeps empty
 * buckets and empty clusters from becoming empty groups, and sorting makes the ids independent of
 * partitioning. Ranks come from a distributed sort plus zipWithIndex, never a collect, so the
 * number of groups is not bounded by driver memory.
 */
final class DenseIds {
  /** Id maps up to this many keys are broadcast into the join. */
  private static final long BROADCAST_KEYS = 500_000;

  private DenseIds() {}

  /**
   * A dense assignment from keyed rows.
   *
   * @param assignment (example_id, group_id), lazy
   * @param idMap (keys..., group_id), persisted: unpersist once {@code assignment} is materialised
   */
  record Dense(Dataset<Row> assignment, Dataset<Row> idMap) {}

  /**
   * @param keyed example_id plus the key columns (nulls form their own key, sorted first)
   */
  static Dense byKeys(SparkSession spark, Dataset<Row> keyed, String... keys) {
    return dense(spark, keyed, false, keys);
  }

  /**
   * The same for one key column whose value is kept in the assignment as {@link Groups#GROUP_KEY}.
   */
  static Dense byNamedKey(SparkSession spark, Dataset<Row> keyed, String key) {
    return dense(spark, keyed, true, key);
  }

  private static Dense dense(
      SparkSession spark, Dataset<Row> keyed, boolean keepKey, String... keys) {
    Column[] keyCols = Arrays.stream(keys).map(functions::col).toArray(Column[]::new);
    Dataset<Row> distinct = keyed.select(keyCols).distinct().sort(keyCols);
    Dataset<Row> idMap = withRank(spark, distinct).persist(StorageLevel.MEMORY_AND_DISK());
    long count = idMap.count();
    Column on = null;
    for (String k : keys) {
      Column eq = keyed.col(k).eqNullSafe(idMap.col(k));
      on = on == null ? eq : on.and(eq);
    }
    Dataset<Row> right = count <= BROADCAST_KEYS ? functions.broadcast(idMap) : idMap;
    Dataset<Row> assignment =
        keepKey
            ? keyed
                .join(right, on)
                .select(
                    keyed.col(Columns.EXAMPLE_ID),
                    idMap.col(Columns.GROUP_ID),
                    idMap.col(keys[0]).as(Columns.GROUP_KEY))
            : keyed
                .join(right, on)
                .select(keyed.col(Columns.EXAMPLE_ID), idMap.col(Columns.GROUP_ID));
    return new Dense(assignment, idMap);
  }

  /** Per-example groups: group_id = rank of example_id, with no join. */
  static Dataset<Row> byExampleId(SparkSession spark, Dataset<Row> examples) {
    return withRank(spark, examples.select(col(Columns.EXAMPLE_ID)).sort(Columns.EXAMPLE_ID));
  }

  /** Appends group_id = the row's position in a globally sorted Dataset of distinct rows. */
  private static Dataset<Row> withRank(SparkSession spark, Dataset<Row> sorted) {
    JavaRDD<Row> ranked =
        sorted
            .javaRDD()
            .zipWithIndex()
            .map(
                t -> {
                  Row r = t._1();
                  Object[] v = new Object[r.size() + 1];
                  for (int i = 0; i < r.size(); i++) {
                    v[i] = r.get(i);
                  }
                  v[r.size()] = t._2();
                  return RowFactory.create(v);
                });
    return spark.createDataFrame(
        ranked, sorted.schema().add(Columns.GROUP_ID, DataTypes.LongType, false));
  }
}
