package dev.ggda.pipeline;

import dev.ggda.config.OutputFormat;
import dev.ggda.data.Columns;
import dev.ggda.io.Tables;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * What the demo prints after a run: for a few targets, the top proponent and opponent groups with
 * their label make-up, read back from the written tables (so it shows what a user would find).
 */
final class DemoSummary {
  private DemoSummary() {}

  static void print(
      SparkSession spark,
      String outDir,
      OutputFormat format,
      Console console,
      int targets,
      int perSide) {
    Dataset<Row> scores = Tables.read(spark, outDir + "/scores", format);
    Dataset<Row> stats = Tables.read(spark, outDir + "/group_stats", format);
    List<Long> ids =
        scores
            .select(Columns.TARGET_ID)
            .distinct()
            .orderBy(Columns.TARGET_ID)
            .limit(targets)
            .collectAsList()
            .stream()
            .map(r -> r.getLong(0))
            .toList();
    for (long t : ids) {
      Dataset<Row> mine =
          scores.where(functions.col(Columns.TARGET_ID).equalTo(t)).join(stats, Columns.GROUP_ID);
      console.info(
          "target %d: top proponent groups (score, size, majority label, label counts)", t);
      for (Row r :
          mine.orderBy(functions.col(Columns.SCORE).desc()).limit(perSide).collectAsList()) {
        console.info("    %s", describe(r));
      }
      console.info("target %d: top opponent groups", t);
      for (Row r :
          mine.orderBy(functions.col(Columns.SCORE).asc()).limit(perSide).collectAsList()) {
        console.info("    %s", describe(r));
      }
    }
  }

  private static String describe(Row r) {
    return String.format(
        "group %d: score %+.4g, size %d, majority label %d, labels %s",
        r.<Long>getAs(Columns.GROUP_ID),
        r.<Double>getAs(Columns.SCORE),
        r.<Long>getAs(Columns.SIZE),
        r.<Integer>getAs(Columns.MAJORITY_LABEL),
        r.getList(r.fieldIndex(Columns.LABEL_COUNTS)));
  }
}
