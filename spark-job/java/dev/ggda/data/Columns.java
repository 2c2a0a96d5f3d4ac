package dev.ggda.data;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Every column name of ggda's tables, defined once. The canonical example schema every reader
 * produces: {@code example_id long not null, label int not null, features array<float> not null (no
 * null elements), group string} (group only when the source names a group column). Later stages
 * depend on these names only.
 */
public final class Columns {
  // The canonical input columns.
  public static final String EXAMPLE_ID = "example_id";
  public static final String LABEL = "label";
  public static final String FEATURES = "features";
  public static final String GROUP = "group";

  // The output tables' columns (DESIGN.md section 6), every table's names from here.
  public static final String GROUP_ID = "group_id";

  /**
   * The user's group value a group id stands for (group.method column only; null for a null value).
   */
  public static final String GROUP_KEY = "group_key";

  public static final String SIZE = "size";
  public static final String LABEL_COUNTS = "label_counts";
  public static final String MEAN_LOSS = "mean_loss";
  public static final String MAJORITY_LABEL = "majority_label";
  public static final String TARGET_ID = "target_id";
  public static final String SCORE = "score";
  public static final String VALUE = "value";
  public static final String VALUE_PER_EXAMPLE = "value_per_example";
  public static final String RANK = "rank";
  public static final String SELF_INFLUENCE = "self_influence";
  // Per-example signals of the trained model (apps): final loss and margin, the loss averaged over
  // the recorded checkpoints, TracIn's self-influence summed over them, and the loss under a model
  // retrained without the highest-loss examples.
  public static final String LOSS = "loss";
  public static final String MARGIN = "margin";
  public static final String CHECKPOINT_LOSS = "checkpoint_loss";
  public static final String CHECKPOINT_SELF_INFLUENCE = "checkpoint_self_influence";
  public static final String REFIT_LOSS = "refit_loss";

  /** The input file an example was read from (incremental runs key their stored features by it). */
  public static final String SOURCE_FILE = "source_file";

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
    return withGroup
        ? s.add(new StructField(GROUP, DataTypes.StringType, true, Metadata.empty()))
        : s;
  }
}
