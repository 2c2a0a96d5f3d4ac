package dev.ggda.spark;

import dev.ggda.math.Flat;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A reusable buffer of up to {@link #CAPACITY} canonical rows (example_id, label, features, in that
 * column order), so executors run one ND4J pass per batch rather than one per example.
 */
public final class ExampleBatch {
  public static final int CAPACITY = 1024;

  public final long[] ids = new long[CAPACITY];
  private final int[] labels = new int[CAPACITY];
  private final float[] x;
  private final int dim;
  public int size;

  public ExampleBatch(int dim) {
    this.dim = dim;
    this.x = new float[CAPACITY * dim];
  }

  /** Refills the batch from {@code rows}; false when there was nothing left. */
  public boolean fill(Iterator<Row> rows) {
    size = 0;
    while (size < CAPACITY && rows.hasNext()) {
      Row r = rows.next();
      ids[size] = r.getLong(0);
      labels[size] = r.getInt(1);
      RowArrays.copyFloats(r, 2, x, size * dim, dim);
      size++;
    }
    return size > 0;
  }

  /** The batch's inputs, size x dim (float). */
  public INDArray features() {
    return Flat.matrix(x, 0, size, dim);
  }

  /** The batch's inputs in another data type (float64 for Hessian work). */
  public INDArray features(org.nd4j.linalg.api.buffer.DataType dtype) {
    return features().castTo(dtype);
  }

  public int[] labels() {
    return Arrays.copyOf(labels, size);
  }

  /**
   * Lazily maps a partition batch by batch: {@code f} turns a filled batch into its output rows.
   * Only one batch's input and output are in memory at a time.
   */
  public static Iterator<Row> map(Iterator<Row> rows, int dim, Function<ExampleBatch, Row[]> f) {
    ExampleBatch batch = new ExampleBatch(dim);
    return new Iterator<>() {
      private Row[] out = new Row[0];
      private int pos;

      @Override
      public boolean hasNext() {
        while (pos == out.length) {
          if (!batch.fill(rows)) {
            return false;
          }
          out = f.apply(batch);
          pos = 0;
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return out[pos++];
      }
    };
  }
}
