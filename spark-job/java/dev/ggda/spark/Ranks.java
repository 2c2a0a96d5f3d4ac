package dev.ggda.spark;

import dev.ggda.data.Columns;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Global ranks without funnelling the rows through one partition: a range-partitioned sort, then
 * each partition's offset from the counts of the partitions before it (zipWithIndex). A window
 * without partitionBy would move every row to a single task.
 */
public final class Ranks {
  private Ranks() {}

  /**
   * Prepends {@code rank} (long, 1 = first) after sorting by {@code order}, which must end with a
   * unique column (e.g. example_id) so that the order is total and the ranks do not depend on
   * partitioning. NaN keys sort above every number.
   */
  public static Dataset<Row> rank(SparkSession spark, Dataset<Row> table, Column... order) {
    Dataset<Row> sorted = table.orderBy(order);
    StructType schema = new StructType().add(Columns.RANK, DataTypes.LongType, false);
    for (var f : sorted.schema().fields()) {
      schema = schema.add(f);
    }
    JavaRDD<Row> rows =
        sorted
            .javaRDD()
            .zipWithIndex()
            .map(
                t -> {
                  Row r = t._1();
                  Object[] v = new Object[r.length() + 1];
                  v[0] = t._2() + 1;
                  for (int i = 0; i < r.length(); i++) {
                    v[i + 1] = r.get(i);
                  }
                  return RowFactory.create(v);
                });
    return spark.createDataFrame(rows, schema);
  }
}
