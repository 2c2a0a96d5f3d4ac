package dev.ggda.api;

import dev.ggda.attribution.ScoreStage;
import dev.ggda.config.GgdaConfig;
import dev.ggda.model.TrainedModel;
import dev.ggda.pipeline.Pipeline;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The tables of one attribution, as `ggda run` writes them (DESIGN.md section 6), and the model
 * they were computed with. The tables read from data this result keeps cached: use them (show,
 * write, join, collect) before {@link #close()}, which releases that cache.
 */
public final class AttributionResult implements AutoCloseable {
  private final Pipeline run;
  private final ScoreStage.Scored tables;

  AttributionResult(Pipeline run, ScoreStage.Scored tables) {
    this.run = run;
    this.tables = tables;
  }

  /** target_id long, group_id long, score double: every pair, or the top k per target. */
  public Dataset<Row> scores() {
    return tables.scores;
  }

  /** example_id long, group_id long: the group of every training row. */
  public Dataset<Row> groups() {
    return run.groups().assignment();
  }

  /** group_id long, size long, label_counts array of long, mean_loss double, majority_label int. */
  public Dataset<Row> groupStats() {
    return run.groups().stats();
  }

  /**
   * group_id, size, value (score summed over the targets), value_per_example, rank (1 = highest
   * value).
   */
  public Dataset<Row> groupValues() {
    return tables.groupValues;
  }

  /** group_id, self_influence; empty when the method's setting does not compute it. */
  public Optional<Dataset<Row>> selfInfluence() {
    return Optional.ofNullable(tables.selfInfluence);
  }

  /** The model the scores were computed with (trained here, loaded, or the one given). */
  public TrainedModel model() {
    return run.model();
  }

  /** The settings that ran. */
  public GgdaConfig config() {
    return run.config();
  }

  /**
   * What run.json would record: counts, stage times, the effective damping and projection width.
   */
  public String runJson() {
    return run.info().toJson();
  }

  /** Releases the cached training rows, groups, features and scores. */
  @Override
  public void close() {
    run.close();
  }
}
