package dev.ggda.grouping;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.udf;

import dev.ggda.InputException;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.GroupMethod;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Seeds;
import dev.ggda.model.TrainedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Stage 3 of DESIGN.md section 5: assigns every training example to a group and summarises the
 * groups.
 *
 * <p>The target number of groups is m = group.count when set, else max(1, round(n / group.size)),
 * at most n. Size 1 (without a count), or a count of at least n, is per-example attribution: every
 * example its own group, whatever the method. Every method is a function of the example ids,
 * labels, features, user column and seed only, never of the input's partitioning, so reruns and
 * retries give the same groups. With incremental.store, k-means groups come from the centres kept
 * there ({@link StoredClusters}).
 */
public final class GroupingStage {
  private static final String BUCKET = "bucket";

  private GroupingStage() {}

  public static Groups assign(
      SparkSession spark, GgdaConfig config, LoadedData train, TrainedModel model) {
    GroupConfig g = config.group();
    long n = train.count();
    Broadcast<ModelSpec> spec =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(ModelSpec.of(model));
    // Intermediate caches that only live until the assignment is materialised.
    List<Dataset<Row>> scratch = new ArrayList<>();
    Dataset<Row> assignment;
    StoredClustering stored = null;
    String store = config.incremental() == null ? null : config.incremental().store();
    if (perExample(g, n)) {
      assignment = DenseIds.byExampleId(spark, train.examples());
    } else if (store != null && g.method().kmeans()) {
      StoredClusters.Outcome o =
          StoredClusters.assign(spark, store, g, targetCount(g, n), train, spec, scratch);
      stored = o.stored();
      scratch.add(o.dense().idMap());
      assignment = o.dense().assignment();
    } else {
      long m = targetCount(g, n);
      DenseIds.Dense dense =
          switch (g.method()) {
            case RANDOM -> random(spark, train, m, g.seed());
            case LABEL -> byLabel(spark, train, g, m);
            case COLUMN -> byColumn(spark, train);
            case KMEANS_INPUT, KMEANS_REPR, KMEANS_GRAD ->
                kmeans(spark, train, g, m, spec, scratch);
          };
      scratch.add(dense.idMap());
      assignment = dense.assignment();
    }
    assignment = assignment.persist(StorageLevel.MEMORY_AND_DISK());
    // One pass materialises the cache and checks it; afterwards the scratch caches can go.
    Row check = assignment.agg(count(lit(1)), max(col(Columns.GROUP_ID))).first();
    scratch.forEach(d -> d.unpersist(false));
    long rows = check.getLong(0);
    if (rows != n) {
      throw new IllegalStateException(
          "grouping assigned " + rows + " examples, but the training set has " + n);
    }
    long groups = check.isNullAt(1) ? 0 : check.getLong(1) + 1;
    return new Groups(assignment, GroupStats.compute(train, spec, assignment), groups, stored);
  }

  /** A short human description for logs and the report, e.g. "kmeans-grad, size 64". */
  public static String describe(GroupConfig g) {
    if (g.size() == 1 && g.count() == null) {
      return "per-example (size 1)";
    }
    // The YAML spelling (KMEANS_GRAD is kmeans-grad), as ConfigLoader.yamlName gives it; spelled
    // out here so describing a config does not load the config defaults.
    String method = g.method().name().toLowerCase(Locale.ROOT).replace('_', '-');
    if (g.method() == GroupMethod.COLUMN) {
      return method;
    }
    return g.count() != null
        ? method + ", " + g.count() + " groups"
        : method + ", size " + g.size();
  }

  static boolean perExample(GroupConfig g, long n) {
    return g.count() == null ? g.size() == 1 : g.count() >= n;
  }

  /** m: the configured count, or n / size rounded; within [1, n]. */
  static long targetCount(GroupConfig g, long n) {
    long m = g.count() != null ? g.count() : Math.round((double) n / g.size());
    return Math.max(1, Math.min(m, n));
  }

  /** floor(groups * u), u uniform from (seed, example_id): the same bucket on any partitioning. */
  static long bucket(long groups, long seed, long exampleId) {
    return Math.min(groups - 1, (long) (groups * Seeds.unit(Seeds.mix(seed, exampleId))));
  }

  private static DenseIds.Dense random(SparkSession spark, LoadedData train, long m, long seed) {
    UserDefinedFunction bucket =
        udf((UDF1<Long, Long>) id -> bucket(m, seed, id), DataTypes.LongType);
    Dataset<Row> keyed =
        train
            .examples()
            .select(col(Columns.EXAMPLE_ID), bucket.apply(col(Columns.EXAMPLE_ID)).as(BUCKET));
    return DenseIds.byKeys(spark, keyed, BUCKET);
  }

  /**
   * Label-pure groups: class c's examples go randomly into ceil(n_c / size) groups, or, when a
   * count is set, into its proportional share of the count (at least one group per class).
   */
  private static DenseIds.Dense byLabel(
      SparkSession spark, LoadedData train, GroupConfig g, long m) {
    long[] classSizes = new long[train.classes()];
    for (Row r : train.examples().groupBy(Columns.LABEL).count().collectAsList()) {
      classSizes[r.getInt(0)] = r.getLong(1);
    }
    long[] perClass;
    if (g.count() != null) {
      perClass = Allocation.proportional(classSizes, m);
    } else {
      perClass = new long[classSizes.length];
      for (int c = 0; c < perClass.length; c++) {
        perClass[c] = (classSizes[c] + g.size() - 1) / g.size();
      }
    }
    long seed = g.seed();
    UserDefinedFunction bucket =
        udf(
            (UDF2<Long, Integer, Long>)
                (id, label) -> bucket(Math.max(1, perClass[label]), seed, id),
            DataTypes.LongType);
    Dataset<Row> keyed =
        train
            .examples()
            .select(
                col(Columns.EXAMPLE_ID),
                col(Columns.LABEL),
                bucket.apply(col(Columns.EXAMPLE_ID), col(Columns.LABEL)).as(BUCKET));
    return DenseIds.byKeys(spark, keyed, Columns.LABEL, BUCKET);
  }

  /**
   * The user's group column; ids follow the sorted values (a null value is one group, first), and
   * the value stays with the group as group_key.
   */
  private static DenseIds.Dense byColumn(SparkSession spark, LoadedData train) {
    if (!train.hasGroup()) {
      throw new InputException(
          "group.method column needs a group column in the training data, but it has none;"
              + " set data.train.group_col to the column naming each example's group, or choose another group.method");
    }
    return DenseIds.byNamedKey(
        spark, train.examples().select(Columns.EXAMPLE_ID, Columns.GROUP), Columns.GROUP);
  }

  private static DenseIds.Dense kmeans(
      SparkSession spark,
      LoadedData train,
      GroupConfig g,
      long m,
      Broadcast<ModelSpec> spec,
      List<Dataset<Row>> scratch) {
    Dataset<Row> features =
        KMeansGrouping.features(g.method(), g.seed(), g.normalize(), train, spec)
            .persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(features);
    KMeansGrouping.Keyed keyed = KMeansGrouping.cluster(features, m, g.seed());
    // Densifying reads the cluster keys twice (distinct keys, then the join): cache them rather
    // than predict, or re-run the local k-means, twice.
    Dataset<Row> clusters = keyed.table().persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(clusters);
    return DenseIds.byKeys(spark, clusters, keyed.keys());
  }
}
