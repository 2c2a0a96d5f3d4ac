package dev.ggda.data;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The canonical example schema every reader produces: {@code example_id long not null, label int
 * not null, features array<float> not null (no null elements), group string} (group only when the
 * source names a group column). Later stages depend on these names only.
 */
public final class Columns {
  public static final String EXAMPLE_ID = "example_id";
  public static final String LABEL = "label";
  public static final String FEATURES = "features";
  public static final String GROUP = "group";

  static final ArrayType FLOAT_ARRAY = DataTypes.createArrayType(DataTypes.FloatType, false);

  private Columns() {}

  /** The canonical schema, with or without the group column. */
  public static StructType schema(boolean withGroup) {
    StructType s =
        new StructType(
            new StructField[] {
              new StructField(EXAMPLE_ID, DataTypes.LongType, false, Metadata.empty()),
              new StructField(LABEL, DataTypes.IntegerType, false, Metadata.empty()),
              new StructField(FEATURES, FLOAT_ARRAY, false, Metadata.empty())
            });
    return withGroup ? s.add(new StructField(GROUP, DataTypes.StringType, true, Metadata.empty())) : s;
  }
}
