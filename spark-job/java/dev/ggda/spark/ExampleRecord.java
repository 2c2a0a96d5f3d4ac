package dev.ggda.spark;

import dev.ggda.data.Columns;
import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * One example as plain fields, for RDD stages that shuffle or batch examples. Read from Spark's
 * internal rows, the feature array is copied once as a float[] (UnsafeArrayData.toFloatArray):
 * going through {@code Dataset.javaRDD()} boxes every feature into a Float and ships those through
 * the shuffle. A plain class with arrays, not a record: Kryo 4 cannot serialize records.
 */
public final class ExampleRecord implements Serializable {
  private static final long serialVersionUID = 1L;

  public final long id;
  public final int label;
  public final float[] features;

  /** The group id when read with one, else -1. */
  public final long group;

  public ExampleRecord(long id, int label, float[] features, long group) {
    this.id = id;
    this.label = label;
    this.features = features;
    this.group = group;
  }

  /** Examples (example_id, label, features) as records. */
  public static JavaRDD<ExampleRecord> of(Dataset<Row> examples) {
    return read(examples.select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES), false);
  }

  /** Examples joined with their group: (example_id, label, features, group_column). */
  public static JavaRDD<ExampleRecord> withGroup(Dataset<Row> examples, String groupColumn) {
    return read(
        examples.select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES, groupColumn), true);
  }

  private static JavaRDD<ExampleRecord> read(Dataset<Row> selected, boolean grouped) {
    // Internal rows may be reused by the iterator: every field is copied out here.
    return selected
        .queryExecution()
        .toRdd()
        .toJavaRDD()
        .map(
            (InternalRow r) ->
                new ExampleRecord(
                    r.getLong(0),
                    r.getInt(1),
                    r.getArray(2).toFloatArray(),
                    grouped ? r.getLong(3) : -1L));
  }
}
