package dev.ggda.spark;

import org.apache.spark.sql.Row;
import scala.collection.Iterator;
import scala.collection.Seq;

/** Copies array columns out of Rows without boxing detours through java.util.List. */
public final class RowArrays {
  private RowArrays() {}

  /** Copies the array&lt;float&gt; in column {@code col} into {@code dst[off .. off+dim)}. */
  public static void copyFloats(Row row, int col, float[] dst, int off, int dim) {
    Seq<Object> seq = row.getSeq(col);
    if (seq.length() != dim) {
      throw new IllegalArgumentException(
          "feature vector has " + seq.length() + " values, expected " + dim);
    }
    Iterator<Object> it = seq.iterator();
    int i = off;
    while (it.hasNext()) {
      dst[i++] = (Float) it.next();
    }
  }
}
