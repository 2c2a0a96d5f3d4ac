package dev.ggda.grouping;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_entries;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.spark.ExampleBatch;
import java.util.Iterator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;

/** group_stats (DESIGN.md section 6): size, label counts, majority label, mean loss per group. */
final class GroupStats {
  private static final String LOSS = "loss";

  private GroupStats() {}

  /**
   * (group_id, size, label_counts, mean_loss, majority_label); lazy. majority_label is the lowest
   * label among those with the highest count; mean_loss is the mean softmax cross-entropy under the
   * final model of member 0.
   */
  static Dataset<Row> compute(
      LoadedData train, Broadcast<ModelSpec> model, Dataset<Row> assignment) {
    Dataset<Row> losses =
        train
            .examples()
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .mapPartitions(new ExampleLosses(model), Encoders.row(ExampleLosses.SCHEMA));
    // Count per (group, label) first, so the label counts are one small map per group. The key is a
    // function of the group id: grouping by it as well only carries it along.
    boolean named = Groups.hasKey(assignment);
    Column[] group =
        named
            ? new Column[] {col(Columns.GROUP_ID), col(Columns.GROUP_KEY)}
            : new Column[] {col(Columns.GROUP_ID)};
    Column[] groupAndLabel = java.util.Arrays.copyOf(group, group.length + 1);
    groupAndLabel[group.length] = col(Columns.LABEL);
    Dataset<Row> perLabel =
        losses
            .join(assignment, Columns.EXAMPLE_ID)
            .groupBy(groupAndLabel)
            .agg(count(lit(1)).as("n"), sum(LOSS).as("loss_sum"));
    String labelCounts =
        "transform(sequence(0, "
            + (train.classes() - 1)
            + "), k -> coalesce(try_element_at(by_label, k), 0L))";
    Dataset<Row> stats =
        perLabel
            .groupBy(group)
            .agg(
                sum("n").as(Columns.SIZE),
                sum("loss_sum").as("loss_sum"),
                map_from_entries(collect_list(struct(col(Columns.LABEL), col("n")))).as("by_label"))
            .select(
                col(Columns.GROUP_ID),
                col(Columns.SIZE),
                expr(labelCounts).as(Columns.LABEL_COUNTS),
                col("loss_sum").divide(col(Columns.SIZE)).as(Columns.MEAN_LOSS),
                named ? col(Columns.GROUP_KEY) : lit(null).cast("string").as(Columns.GROUP_KEY))
            .withColumn(
                Columns.MAJORITY_LABEL,
                expr(
                    "cast(array_position("
                        + Columns.LABEL_COUNTS
                        + ", array_max("
                        + Columns.LABEL_COUNTS
                        + ")) - 1 as int)"));
    // The key goes last, after the columns every grouping has.
    return named ? stats.select(withKeyLast(stats.columns())) : stats.drop(Columns.GROUP_KEY);
  }

  private static Column[] withKeyLast(String[] columns) {
    java.util.List<Column> out = new java.util.ArrayList<>();
    for (String c : columns) {
      if (!c.equals(Columns.GROUP_KEY)) {
        out.add(col(c));
      }
    }
    out.add(col(Columns.GROUP_KEY));
    return out.toArray(Column[]::new);
  }

  /** (example_id, label, features) → (example_id, label, loss), one forward pass per batch. */
  static final class ExampleLosses implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    static final StructType SCHEMA =
        new StructType()
            .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
            .add(Columns.LABEL, DataTypes.IntegerType, false)
            .add(LOSS, DataTypes.DoubleType, false);

    private final Broadcast<ModelSpec> model;

    ExampleLosses(Broadcast<ModelSpec> model) {
      this.model = model;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      Network net = model.value().network();
      return ExampleBatch.map(
          rows,
          net.architecture().inputDim(),
          b -> {
            int[] labels = b.labels();
            // Through a fresh double buffer: toDoubleVector() refuses a one-element batch.
            double[] loss =
                Losses.crossEntropy(net.logits(b.features()), labels)
                    .castTo(DataType.DOUBLE)
                    .dup('c')
                    .data()
                    .asDouble();
            Row[] out = new Row[b.size];
            for (int i = 0; i < b.size; i++) {
              out[i] = RowFactory.create(b.ids[i], labels[i], loss[i]);
            }
            return out;
          });
    }
  }
}
