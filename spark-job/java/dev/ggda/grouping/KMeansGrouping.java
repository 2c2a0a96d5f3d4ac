package dev.ggda.grouping;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.ggda.config.GroupMethod;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Seeds;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.feature.Normalizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * K-means grouping on inputs, representations or gradient features.
 *
 * <p>Up to {@link #TWO_LEVEL_ABOVE} groups: one MLlib k-means (k-means||). Above: a coarse MLlib
 * k-means into ceil(sqrt(m)) clusters, then each coarse cluster split on an executor by {@link
 * LocalClusters} into its proportional share of m, so the cost is about n sqrt(m) distance
 * evaluations per iteration instead of n m, and 100k groups stay practical.
 *
 * <p>Determinism: the feature table is hash-partitioned by example_id into a number of partitions
 * that depends on n alone and sorted by example_id within each, so MLlib sees the same partitions
 * in the same order (its k-means|| sampling is seeded per partition index) whatever the input's
 * partitioning.
 */
final class KMeansGrouping {
  /** Above this many groups, cluster in two levels. */
  static final int TWO_LEVEL_ABOVE = 256;

  static final String CLUSTER = "cluster";

  private static final String UNIT = "unit_vec";

  /**
   * Lloyd iterations of the coarse level (MLlib's default is 20): it only has to cut the space into
   * regions for the fine level, and each iteration is a full pass over the features.
   */
  private static final int COARSE_ITERATIONS = 10;

  /** Target rows per feature partition; the partition count is a function of n only. */
  private static final long ROWS_PER_PARTITION = 50_000;

  private static final long FINE_SALT = 0xF1AEL;

  private KMeansGrouping() {}

  /** Clustering keys per example: the table (example_id, keys...) and the key column names. */
  record Keyed(Dataset<Row> table, String[] keys) {}

  static boolean twoLevel(long groups) {
    return groups > TWO_LEVEL_ABOVE;
  }

  /** The fixed partition count of the feature table for n examples. */
  static int partitions(long n) {
    return (int) Math.min(10_000, Math.max(4, (n + ROWS_PER_PARTITION - 1) / ROWS_PER_PARTITION));
  }

  /**
   * The clustering features (example_id, vec) of every example, in a fixed partitioning and order
   * (see the class comment). Lazy and not persisted: the caller persists it before clustering.
   */
  static Dataset<Row> features(
      GroupMethod method,
      long seed,
      boolean normalize,
      LoadedData train,
      Broadcast<ModelSpec> model) {
    Dataset<Row> raw = rawFeatures(method, seed, train, model);
    if (!normalize) {
      return raw;
    }
    // Unit length (zero vectors stay zero): clusters then follow gradient directions, not the
    // magnitudes that otherwise pile every well-fit example into one cluster near the origin.
    return new Normalizer()
        .setP(2.0)
        .setInputCol(ModelFeatures.VEC)
        .setOutputCol(UNIT)
        .transform(raw)
        .select(col(Columns.EXAMPLE_ID), col(UNIT).as(ModelFeatures.VEC));
  }

  private static Dataset<Row> rawFeatures(
      GroupMethod method, long seed, LoadedData train, Broadcast<ModelSpec> model) {
    // Batches for the model features are formed after the sort too, so even float rounding in
    // the batched matrix products is the same on every run.
    Dataset<Row> ordered =
        train
            .examples()
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .repartition(partitions(train.count()), col(Columns.EXAMPLE_ID))
            .sortWithinPartitions(Columns.EXAMPLE_ID);
    return switch (method) {
      case KMEANS_INPUT ->
          ordered.select(
              col(Columns.EXAMPLE_ID),
              org.apache
                  .spark
                  .ml
                  .functions
                  .array_to_vector(col(Columns.FEATURES).cast("array<double>"))
                  .as(ModelFeatures.VEC));
      case KMEANS_REPR ->
          ordered.mapPartitions(
              new ModelFeatures(model, false, seed), Encoders.row(ModelFeatures.SCHEMA));
      case KMEANS_GRAD ->
          ordered.mapPartitions(
              new ModelFeatures(model, true, seed), Encoders.row(ModelFeatures.SCHEMA));
      default -> throw new IllegalArgumentException("not a k-means method: " + method);
    };
  }

  /**
   * Clusters the (persisted) feature table into about {@code groups} clusters.
   *
   * @param features (example_id, vec) from {@link #features}, persisted
   */
  static Keyed cluster(Dataset<Row> features, long groups, long seed) {
    if (groups <= 1) {
      // MLlib needs k >= 2; one group needs no clustering.
      return new Keyed(
          features.select(col(Columns.EXAMPLE_ID), lit(0).as(CLUSTER)), new String[] {CLUSTER});
    }
    if (!twoLevel(groups)) {
      KMeansModel model = fit(kmeans((int) groups, seed, CLUSTER), features);
      return new Keyed(
          model.transform(features).select(Columns.EXAMPLE_ID, CLUSTER), new String[] {CLUSTER});
    }
    int coarseK = (int) Math.ceil(Math.sqrt(groups));
    KMeansModel coarse =
        fit(kmeans(coarseK, seed, LocalClusters.COARSE).setMaxIter(COARSE_ITERATIONS), features);
    Dataset<Row> withCoarse =
        coarse
            .transform(features)
            .select(Columns.EXAMPLE_ID, LocalClusters.COARSE, ModelFeatures.VEC);
    // k-means|| may return fewer centres than asked (few distinct points): size by what it gave.
    long[] sizes = new long[coarse.clusterCenters().length];
    List<Row> counts = withCoarse.groupBy(LocalClusters.COARSE).count().collectAsList();
    for (Row r : counts) {
      sizes[r.getInt(0)] = r.getLong(1);
    }
    long[] perCoarse = Allocation.proportional(sizes, groups);
    Dataset<Row> fine =
        withCoarse
            // About one coarse cluster per task; the result does not depend on this count.
            .repartition(coarseK, col(LocalClusters.COARSE))
            .sortWithinPartitions(LocalClusters.COARSE, Columns.EXAMPLE_ID)
            .mapPartitions(
                new LocalClusters(perCoarse, Seeds.mix(seed, FINE_SALT)),
                Encoders.row(LocalClusters.SCHEMA));
    return new Keyed(fine, new String[] {LocalClusters.COARSE, LocalClusters.FINE});
  }

  /**
   * Fits on an uncached projection of the cached feature table, never on the table itself. MLlib
   * caches its own training instances only when its input is uncached; given a cached input it
   * re-evaluates its NaN check on every Lloyd pass, and in Spark 4.2 that check (an interpreted
   * exists() over every vector element) builds a SQLConf per element: 70% of a kmeans-input
   * grouping's time on Fashion-MNIST went there. The price is a second cached copy of the features
   * while MLlib fits (spilled to disk when memory is short); the clusters are the same.
   */
  private static KMeansModel fit(KMeans kmeans, Dataset<Row> features) {
    return kmeans.fit(features.select(col(ModelFeatures.VEC)));
  }

  private static KMeans kmeans(int k, long seed, String predictionCol) {
    return new KMeans()
        .setK(k)
        .setSeed(seed)
        .setInitMode("k-means||")
        .setFeaturesCol(ModelFeatures.VEC)
        .setPredictionCol(predictionCol);
  }
}
