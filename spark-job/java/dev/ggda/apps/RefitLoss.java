package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;

import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.model.TrainedModel;
import dev.ggda.spark.Ranks;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The refit-loss signal: drop the training examples the final model's loss ranks most suspicious,
 * train once more with the run's recipe on the rest, and read every example's loss under that
 * model. A model that learned a systematic confusion (a class pair swapped often enough) gives the
 * swapped labels a low loss; without the most suspicious share it learns less of the confusion and
 * their loss rises. The dropped rows are chosen by a total order (loss high first, then
 * example_id), so the signal does not depend on partitioning.
 */
final class RefitLoss {
  private RefitLoss() {}

  /**
   * {@code signals} (ExampleSignals' table of the run's model) with a refit_loss column.
   *
   * @param trainer trains one model on the given rows with the run's recipe
   */
  static Dataset<Row> add(
      SparkSession spark,
      LoadedData train,
      Dataset<Row> signals,
      double fraction,
      Function<LoadedData, TrainedModel> trainer) {
    long drop = Math.round(fraction * train.count());
    Dataset<Row> kept =
        Ranks.rank(
                spark,
                signals.select(Columns.EXAMPLE_ID, Columns.LOSS),
                Ranking.nanLast(Columns.LOSS).desc(),
                col(Columns.EXAMPLE_ID).asc())
            .filter(col(Columns.RANK).gt(drop))
            .select(Columns.EXAMPLE_ID);
    LoadedData rest =
        new LoadedData(
            train.examples().join(kept, new String[] {Columns.EXAMPLE_ID}, "left_semi"),
            train.dim(),
            train.classes(),
            train.count() - drop);
    TrainedModel refit = trainer.apply(rest);
    Dataset<Row> refitLoss =
        ExampleSignals.compute(spark, train.examples(), refit)
            .select(col(Columns.EXAMPLE_ID), col(Columns.LOSS).as(Columns.REFIT_LOSS));
    return signals.join(refitLoss, Columns.EXAMPLE_ID);
  }
}
