package dev.ggda.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/** The broadcast hint for the small side of a join whose size is known without a count. */
public final class SmallTables {
  /** Tables up to this many rows are broadcast to a join (8 bytes an id: 16 MB). */
  public static final long BROADCAST_ROWS = 2_000_000;

  private SmallTables() {}

  /** The table with a broadcast hint when it is small enough: the other side is not shuffled. */
  public static Dataset<Row> hinted(Dataset<Row> table, long rows) {
    return rows <= BROADCAST_ROWS ? functions.broadcast(table) : table;
  }
}
