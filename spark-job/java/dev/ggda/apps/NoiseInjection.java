package dev.ggda.apps;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;

import dev.ggda.config.ConfigLoader;
import dev.ggda.config.FlipKind;
import dev.ggda.config.NoiseConfig;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.pipeline.Pipeline;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;

/**
 * Applies {@link LabelFlips} to a loaded training set: the noisy set and the sorted ids of the
 * flipped examples.
 */
public final class NoiseInjection {
  /**
   * @param noisy the training set with the flipped labels (same ids, features and schema)
   * @param flippedIds ascending ids of the flipped examples
   */
  public record Injected(LoadedData noisy, long[] flippedIds) {}

  private NoiseInjection() {}

  /**
   * Flips the pipeline's training labels as noise.* says (a stage of its own), records what it did
   * in {@code summary} and on the console, and returns the flipped ids, ascending.
   */
  static long[] inject(Pipeline p, NoiseConfig nc, String app, Map<String, Object> summary) {
    Injected r =
        p.info()
            .stage(
                "inject_noise",
                () ->
                    apply(
                        p.spark(), p.trainData(), nc.injectFraction(), nc.injectKind(), nc.seed()));
    p.replaceTrain(r.noisy());
    summary.put("injected_flips", r.flippedIds().length);
    summary.put("inject_fraction", nc.injectFraction());
    summary.put("inject_kind", ConfigLoader.yamlName(nc.injectKind()));
    summary.put("seed", nc.seed());
    p.console()
        .info(
            "%s: flipped %,d of %,d training labels (%s, seed %d)",
            app,
            r.flippedIds().length,
            p.trainData().count(),
            ConfigLoader.yamlName(nc.injectKind()),
            nc.seed());
    return r.flippedIds();
  }

  public static Injected apply(
      SparkSession spark, LoadedData train, double fraction, FlipKind kind, long seed) {
    long m = LabelFlips.count(train.count(), fraction);
    if (m > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(m + " flips do not fit one array on the driver");
    }
    var key = udf((UDF1<Long, Long>) id -> LabelFlips.key(seed, id), DataTypes.LongType);
    List<Row> chosen =
        train
            .examples()
            .select(col(Columns.EXAMPLE_ID))
            .withColumn("_key", key.apply(col(Columns.EXAMPLE_ID)))
            .orderBy(col("_key"), col(Columns.EXAMPLE_ID))
            .limit((int) m)
            .collectAsList();
    long[] ids = new long[chosen.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = chosen.get(i).getLong(0);
    }
    Arrays.sort(ids);
    Broadcast<long[]> bIds = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(ids);
    int classes = train.classes();
    var relabel =
        udf(
            (UDF2<Long, Integer, Integer>)
                (id, label) ->
                    Arrays.binarySearch(bIds.value(), id) >= 0
                        ? LabelFlips.flip(kind, seed, id, label, classes)
                        : label,
            DataTypes.IntegerType);
    Dataset<Row> ex = train.examples();
    Column[] cols =
        Arrays.stream(ex.columns())
            .map(
                c ->
                    c.equals(Columns.LABEL)
                        ? coalesce(
                                relabel.apply(col(Columns.EXAMPLE_ID), col(Columns.LABEL)), lit(0))
                            .as(Columns.LABEL)
                        : col(c))
            .toArray(Column[]::new);
    return new Injected(
        new LoadedData(ex.select(cols), train.dim(), train.classes(), train.count()), ids);
  }
}
