package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.nanvl;

import dev.ggda.data.Columns;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** Sort keys and read-backs for tables ranked with {@link dev.ggda.spark.Ranks}. */
public final class Ranking {
  private Ranking() {}

  /** A descending sort key that puts NaN last (Spark orders NaN above every number). */
  public static Column nanLast(String column) {
    return nanvl(col(column), lit(Double.NEGATIVE_INFINITY));
  }

  /**
   * The ranks (column rank) of the rows of a ranked table whose boolean column {@code flag} is
   * true.
   */
  public static long[] ranksWhere(Dataset<Row> ranked, String flag) {
    List<Row> rows = ranked.where(col(flag)).select(Columns.RANK).collectAsList();
    long[] out = new long[rows.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = rows.get(i).getLong(0);
    }
    return out;
  }

  /**
   * noise/curve rows (method, inspected_fraction, recall) of one method on the standard 101-point
   * grid.
   */
  public static List<Row> curveRows(String method, RecallCurve curve) {
    List<Row> rows = new ArrayList<>();
    for (double f : RecallCurve.grid(101)) {
      rows.add(RowFactory.create(method, f, curve.recallAt(f)));
    }
    return rows;
  }
}
