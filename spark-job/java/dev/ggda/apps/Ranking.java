package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.nanvl;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Ranks a table by a total order (so the ranks do not depend on partitioning) and reads ranks back. */
public final class Ranking {
  private Ranking() {}

  /**
   * Prepends {@code rank} (long, 1 = first) after sorting by {@code order}, which must end with a
   * unique column (e.g. example_id) so that the order is total. NaN keys should be mapped first
   * ({@link #nanLast}).
   */
  public static Dataset<Row> rank(SparkSession spark, Dataset<Row> table, Column... order) {
    Dataset<Row> sorted = table.orderBy(order);
    StructType schema = new StructType().add("rank", DataTypes.LongType, false);
    for (var f : sorted.schema().fields()) {
      schema = schema.add(f);
    }
    JavaRDD<Row> rows = sorted.javaRDD().zipWithIndex().map(t -> {
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

  /** A descending sort key that puts NaN last (Spark orders NaN above every number). */
  public static Column nanLast(String column) {
    return nanvl(col(column), lit(Double.NEGATIVE_INFINITY));
  }

  /** The ranks (column rank) of the rows of a ranked table whose boolean column {@code flag} is true. */
  public static long[] ranksWhere(Dataset<Row> ranked, String flag) {
    List<Row> rows = ranked.where(col(flag)).select("rank").collectAsList();
    long[] out = new long[rows.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = rows.get(i).getLong(0);
    }
    return out;
  }

  /** noise/curve rows (method, inspected_fraction, recall) of one method on the standard 101-point grid. */
  public static List<Row> curveRows(String method, RecallCurve curve) {
    List<Row> rows = new ArrayList<>();
    for (double f : RecallCurve.grid(101)) {
      rows.add(RowFactory.create(method, f, curve.recallAt(f)));
    }
    return rows;
  }
}
