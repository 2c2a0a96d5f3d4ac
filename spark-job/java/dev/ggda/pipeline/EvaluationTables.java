package dev.ggda.pipeline;

import dev.ggda.config.OutputFormat;
import dev.ggda.data.Columns;
import dev.ggda.evaluation.EvaluationStage;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The evaluation/ tables of one evaluated attribution. */
final class EvaluationTables {
  static final StructType SUMMARY =
      new StructType()
          .add("metric", DataTypes.StringType, false)
          .add(Columns.VALUE, DataTypes.DoubleType, true);
  static final StructType PER_TARGET =
      new StructType()
          .add("metric", DataTypes.StringType, false)
          .add(Columns.TARGET_ID, DataTypes.LongType, false)
          .add("spearman", DataTypes.DoubleType, true);
  static final StructType REMOVAL =
      new StructType()
          .add("fraction", DataTypes.DoubleType, false)
          .add("strategy", DataTypes.StringType, false)
          .add("examples_removed", DataTypes.LongType, false)
          .add("seeds", DataTypes.IntegerType, false)
          .add("target_loss_mean", DataTypes.DoubleType, true)
          .add("target_loss_std", DataTypes.DoubleType, true)
          .add("target_accuracy_mean", DataTypes.DoubleType, true)
          .add("target_accuracy_std", DataTypes.DoubleType, true);
  static final StructType LOO =
      new StructType()
          .add(Columns.GROUP_ID, DataTypes.LongType, false)
          .add(Columns.SIZE, DataTypes.LongType, false)
          .add("predicted", DataTypes.DoubleType, true)
          .add("actual", DataTypes.DoubleType, true);

  private EvaluationTables() {}

  static void write(
      SparkSession spark, EvaluationStage.Fidelity r, RunOutput out, OutputFormat format) {
    List<Row> summary = new ArrayList<>();
    r.summary().forEach((k, v) -> summary.add(RowFactory.create(k, (Double) v)));
    Tables.write(
        spark.createDataFrame(summary, SUMMARY).coalesce(1),
        out.path("evaluation/summary"),
        format);
    List<Row> perTarget = new ArrayList<>();
    addPerTarget(perTarget, "lds", r.targetIds, r.ldsPerTarget);
    addPerTarget(perTarget, "group_lds", r.targetIds, r.groupLdsPerTarget);
    if (!perTarget.isEmpty()) {
      Tables.write(
          spark.createDataFrame(perTarget, PER_TARGET).coalesce(1),
          out.path("evaluation/lds"),
          format);
    }
    if (!r.removal.isEmpty()) {
      List<Row> rows = new ArrayList<>();
      for (EvaluationStage.RemovalRow x : r.removal) {
        rows.add(
            RowFactory.create(
                x.fraction(),
                x.strategy(),
                x.examplesRemoved(),
                x.seeds(),
                x.targetLossMean(),
                x.targetLossStd(),
                x.targetAccuracyMean(),
                x.targetAccuracyStd()));
      }
      Tables.write(
          spark.createDataFrame(rows, REMOVAL).coalesce(1), out.path("evaluation/removal"), format);
    }
    if (!r.loo.isEmpty()) {
      List<Row> rows = new ArrayList<>();
      for (EvaluationStage.LooRow x : r.loo) {
        rows.add(RowFactory.create(x.groupId(), x.size(), x.predicted(), x.actual()));
      }
      Tables.write(
          spark.createDataFrame(rows, LOO).coalesce(1), out.path("evaluation/loo"), format);
    }
  }

  private static void addPerTarget(List<Row> rows, String metric, long[] ids, double[] rho) {
    for (int i = 0; i < rho.length; i++) {
      rows.add(RowFactory.create(metric, ids[i], Double.isNaN(rho[i]) ? null : rho[i]));
    }
  }
}
