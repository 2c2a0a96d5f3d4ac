package dev.ggda.featurize;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.config.ComputeDevice;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import dev.ggda.math.Seeds;
import dev.ggda.spark.SmallTables;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Featurize against a feature store ({@code incremental.store}): only input files the store has not
 * seen for this model and these settings are featurized (and stored); every group's row is then the
 * sum of its rows in the files present now, since a group's features are sums over its members and
 * the projection is linear. Files that left the table are left out of that sum. Kernels that are
 * sums over examples (exact, Gauss-Newton) are summed from the files' stored kernels; kernels built
 * from whole group rows (batched, group, group Fisher) are formed again from the summed rows, and
 * the sampled kernel is featurized again from its sample, which shrinks as the table grows. The
 * result is the full run's up to float32 rounding of the partial sums.
 */
public final class IncrementalFeaturize {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What featurize needs besides the data: the same arguments a full run passes. */
  public record Inputs(
      Architecture arch,
      FeaturizeStage.Slots slots,
      Featurizer.Spec spec,
      int k,
      int groupsPerBlock,
      long groups,
      int partitions,
      ComputeDevice device,
      String grouping) {}

  /** The merged features, the groups featurized by this run, and run.json "incremental". */
  public record Result(
      FeaturizeStage.Featurized features, long groupsFeaturized, Map<String, Object> report) {}

  private IncrementalFeaturize() {}

  public static Result run(
      String store, LoadedData train, Dataset<Row> assignment, Inputs in, Consumer<String> log) {
    SparkSession spark = train.examples().sparkSession();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    FeatureStore fs = new FeatureStore(store, keyJson(in), conf);
    // Read once: every use would otherwise scan the table and hash its rows again.
    Dataset<Row> files = train.sources().persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return run(fs, store, files, train, assignment, in, log);
    } finally {
      files.unpersist(false);
    }
  }

  private static Result run(
      FeatureStore fs,
      String store,
      Dataset<Row> files,
      LoadedData train,
      Dataset<Row> assignment,
      Inputs in,
      Consumer<String> log) {
    SparkSession spark = train.examples().sparkSession();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Map<String, Double> seconds = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    List<FeatureStore.Source> sources = sources(files, conf);
    seconds.put("list_files", (System.nanoTime() - t0) / 1e9);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("store", store);
    report.put("key", fs.key());
    report.put("files", sources.size());
    List<String> stored = fs.storedParts();
    if (stored.isEmpty() && !fs.otherKeys().isEmpty()) {
      String why =
          "the store holds features for another model or other settings only"
              + " (the model's parameters, the projection, the method or the k-means centres changed)";
      report.put("started_over", why);
      log.accept("incremental: starting over: " + why);
    }
    Dataset<Row> keys = groupKeys(assignment).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return featurizeAndMerge(
          fs, store, files, train, assignment, keys, sources, stored, in, log, report, seconds);
    } finally {
      keys.unpersist(false);
    }
  }

  private static Result featurizeAndMerge(
      FeatureStore fs,
      String store,
      Dataset<Row> files,
      LoadedData train,
      Dataset<Row> assignment,
      Dataset<Row> keys,
      List<FeatureStore.Source> sources,
      List<String> stored,
      Inputs in,
      Consumer<String> log,
      Map<String, Object> report,
      Map<String, Double> seconds) {
    SparkSession spark = train.examples().sparkSession();
    long t0 = System.nanoTime();
    long featurized = 0;
    long rows = 0;
    int fresh = 0;
    for (FeatureStore.Source s : sources) {
      if (fs.has(s)) {
        continue;
      }
      featurized += featurizeFile(spark, fs, s, files, train, assignment, keys, in);
      rows += s.rows();
      fresh++;
    }
    seconds.put("featurize_new_files", (System.nanoTime() - t0) / 1e9);
    List<String> present = sources.stream().map(FeatureStore.Source::partId).toList();
    long dropped = stored.stream().filter(p -> !present.contains(p)).count();
    report.put("files_featurized", fresh);
    report.put("files_reused", sources.size() - fresh);
    report.put("files_left_out", dropped);
    report.put("rows_featurized", rows);
    log.accept(
        String.format(
            "incremental: %d of %d input file(s) featurized (%,d rows), %d reused from %s;"
                + " %d stored file(s) no longer in the table left out",
            fresh, sources.size(), rows, sources.size() - fresh, store, dropped));
    FeaturizeStage.Featurized merged =
        merge(spark, fs, sources, keys, train, assignment, in, report, seconds);
    report.put("seconds", seconds);
    return new Result(merged, featurized, report);
  }

  /** The input files of the training table with their row counts, in path order. */
  static List<FeatureStore.Source> sources(Dataset<Row> files, Configuration conf) {
    List<FeatureStore.Source> out = new ArrayList<>();
    for (Row r :
        files.groupBy(Columns.SOURCE_FILE).count().orderBy(Columns.SOURCE_FILE).collectAsList()) {
      out.add(FeatureStore.describe(r.getString(0), r.getLong(1), conf));
    }
    return out;
  }

  /** (group_id, group_key): the user's group value, or the example id for per-example groups. */
  static Dataset<Row> groupKeys(Dataset<Row> assignment) {
    if (java.util.Arrays.asList(assignment.columns()).contains(Columns.GROUP_KEY)) {
      return assignment.select(Columns.GROUP_ID, Columns.GROUP_KEY).distinct();
    }
    return assignment.select(
        col(Columns.GROUP_ID), col(Columns.EXAMPLE_ID).cast("string").as(Columns.GROUP_KEY));
  }

  /** Featurizes one input file's examples and stores them as a part; returns its group count. */
  private static long featurizeFile(
      SparkSession spark,
      FeatureStore fs,
      FeatureStore.Source s,
      Dataset<Row> files,
      LoadedData train,
      Dataset<Row> assignment,
      Dataset<Row> keys,
      Inputs in) {
    Dataset<Row> ids =
        files
            .filter(col(Columns.SOURCE_FILE).equalTo(s.file()))
            .select(Columns.EXAMPLE_ID)
            .persist(StorageLevel.MEMORY_AND_DISK());
    // Only this file's examples cross the shuffles of featurize, not the whole table's.
    Dataset<Row> examples =
        train
            .examples()
            .join(SmallTables.hinted(ids, s.rows()), Columns.EXAMPLE_ID, "left_semi")
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return featurizeSelected(spark, fs, s, ids, examples, assignment, keys, in);
    } finally {
      examples.unpersist(false);
      ids.unpersist(false);
    }
  }

  private static long featurizeSelected(
      SparkSession spark,
      FeatureStore fs,
      FeatureStore.Source s,
      Dataset<Row> ids,
      Dataset<Row> examples,
      Dataset<Row> assignment,
      Dataset<Row> keys,
      Inputs in) {
    Dataset<Row> fileGroups =
        assignment.join(SmallTables.hinted(ids, s.rows()), Columns.EXAMPLE_ID, "left_semi");
    FeaturizeStage.Featurized f =
        FeaturizeStage.run(
            examples,
            fileGroups,
            in.arch(),
            in.slots(),
            partSpec(in.spec()),
            in.groupsPerBlock(),
            in.partitions(),
            in.device());
    if (!summedOverExamples(in.spec().moment())) {
      // Formed again from the summed rows or today's sample on every run: not worth storing.
      f = new FeaturizeStage.Featurized(f.blocks, null, new long[in.slots().size()], f.groups);
    }
    String dir = fs.partDir(s);
    fs.writeSource(s);
    if (in.spec().moment() == Featurizer.Moment.SAMPLED_EXAMPLES) {
      SampledRows.save(spark, ids, examples, in, dir);
    }
    Dataset<Row> partKeys = fileGroups.select(Columns.GROUP_ID).distinct();
    keys.join(partKeys, Columns.GROUP_ID, "left_semi")
        .write()
        .mode("overwrite")
        .parquet(dir + "/keys");
    FeatureCheckpoint.save(spark, f, in.slots().size(), in.k(), dir);
    f.blocks.unpersist(false);
    return f.groups;
  }

  /** Kernels that are sums over the examples, so a file's share can be stored and added. */
  private static boolean summedOverExamples(Featurizer.Moment m) {
    return m == Featurizer.Moment.EXAMPLES || m == Featurizer.Moment.GAUSS_NEWTON;
  }

  /** A file's spec: the sampled kernel's sample is featurized apart, from the whole table. */
  private static Featurizer.Spec partSpec(Featurizer.Spec s) {
    if (s.moment() != Featurizer.Moment.SAMPLED_EXAMPLES) {
      return s;
    }
    return new Featurizer.Spec(
        s.projection(),
        s.dim(),
        s.seed(),
        s.marginSums(),
        s.moment(),
        0.0,
        s.sampleSeed(),
        s.passRows());
  }

  /**
   * Every group's row summed over the present files' parts (in path order, in float64), cut into
   * the blocks a full run would make, with the kernel of the configured moment.
   */
  private static FeaturizeStage.Featurized merge(
      SparkSession spark,
      FeatureStore fs,
      List<FeatureStore.Source> sources,
      Dataset<Row> keys,
      LoadedData train,
      Dataset<Row> assignment,
      Inputs in,
      Map<String, Object> report,
      Map<String, Double> seconds) {
    long t0 = System.nanoTime();
    int slots = in.slots().size();
    int k = in.k();
    int gpb = in.groupsPerBlock();
    JavaPairRDD<Long, PartRow> tagged = null;
    for (int i = 0; i < sources.size(); i++) {
      String dir = fs.partDir(sources.get(i));
      Dataset<Row> stored =
          FeatureCheckpoint.rows(spark, dir)
              .join(spark.read().parquet(dir + "/keys"), Columns.GROUP_ID)
              .drop(Columns.GROUP_ID);
      Dataset<Row> current = SmallTables.hinted(keys, in.groups());
      // Null-safe: a null group value is a group of its own.
      Dataset<Row> rows =
          stored
              .join(
                  current, stored.col(Columns.GROUP_KEY).eqNullSafe(current.col(Columns.GROUP_KEY)))
              .select(
                  current.col(Columns.GROUP_ID),
                  stored.col(Columns.SIZE),
                  stored.col("loss"),
                  stored.col("margin"),
                  stored.col("q_sum"));
      int part = i;
      // Plain arrays from here: a Row's arrays are boxed floats, about 5x the bytes to shuffle.
      JavaPairRDD<Long, PartRow> t =
          rows.javaRDD().mapToPair(r -> new Tuple2<>(r.getLong(0), PartRow.of(part, r)));
      tagged = tagged == null ? t : tagged.union(t);
    }
    JavaRDD<Row> summed =
        tagged.groupByKey(in.partitions()).map(t -> sumParts(t._1(), t._2(), gpb));
    JavaRDD<BlockFeatures> blocks =
        FeatureCheckpoint.blocks(summed, slots, k, in.partitions())
            .persist(StorageLevel.MEMORY_AND_DISK());
    // One pass: groups and the examples they hold.
    long[] counts =
        blocks
            .map(b -> new long[] {b.groups(), java.util.Arrays.stream(b.sizes).sum()})
            .fold(new long[2], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
    long groups = counts[0];
    long members = counts[1];
    if (members != train.count()) {
      throw new IllegalStateException(
          "incremental.store "
              + fs.key()
              + ": the stored groups hold "
              + members
              + " examples but the training set has "
              + train.count()
              + "; delete that key's folder under the store to start over");
    }
    seconds.put("sum_stored_rows", (System.nanoTime() - t0) / 1e9);
    long t1 = System.nanoTime();
    Kernel kernel = kernel(spark, fs, sources, blocks, groups, train, assignment, in, report);
    seconds.put("kernel", (System.nanoTime() - t1) / 1e9);
    return new FeaturizeStage.Featurized(blocks, kernel.sum, kernel.rows, groups);
  }

  /**
   * One file's row of a group: its part's index (the order of the sum) and its features. A plain
   * class: Kryo 4 cannot serialise a record.
   */
  static final class PartRow implements java.io.Serializable {
    final int part;
    final int size;
    final float[] loss;
    final float[] margin;
    final float[] q;

    PartRow(int part, int size, float[] loss, float[] margin, float[] q) {
      this.part = part;
      this.size = size;
      this.loss = loss;
      this.margin = margin;
      this.q = q;
    }

    static PartRow of(int part, Row r) {
      return new PartRow(
          part,
          r.getInt(1),
          FeatureCheckpoint.values(r, 2),
          r.isNullAt(3) ? null : FeatureCheckpoint.values(r, 3),
          r.isNullAt(4) ? null : FeatureCheckpoint.values(r, 4));
    }
  }

  /** One group's parts added in part order: a row of {@link FeatureCheckpoint#schema()}. */
  private static Row sumParts(long group, Iterable<PartRow> parts, int gpb) {
    List<PartRow> list = new ArrayList<>();
    parts.forEach(list::add);
    list.sort((a, b) -> Integer.compare(a.part, b.part));
    int size = 0;
    double[] loss = null;
    double[] margin = null;
    double[] q = null;
    for (PartRow p : list) {
      size += p.size;
      loss = add(loss, p.loss);
      margin = add(margin, p.margin);
      q = add(q, p.q);
    }
    return RowFactory.create(
        (int) (group / gpb), group, size, floats(loss), floats(margin), floats(q));
  }

  private static double[] add(double[] acc, float[] values) {
    if (values == null) {
      return acc;
    }
    double[] out = acc == null ? new double[values.length] : acc;
    for (int i = 0; i < out.length; i++) {
      out[i] += values[i];
    }
    return out;
  }

  private static float[] floats(double[] v) {
    if (v == null) {
      return null;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) v[i];
    }
    return out;
  }

  private record Kernel(double[][] sum, long[] rows) {}

  private static Kernel kernel(
      SparkSession spark,
      FeatureStore fs,
      List<FeatureStore.Source> sources,
      JavaRDD<BlockFeatures> blocks,
      long groups,
      LoadedData train,
      Dataset<Row> assignment,
      Inputs in,
      Map<String, Object> report) {
    int slots = in.slots().size();
    return switch (in.spec().moment()) {
      case NONE -> new Kernel(null, new long[slots]);
      case EXAMPLES, GAUSS_NEWTON -> storedSum(spark, fs, sources, slots);
      case SAMPLED_EXAMPLES -> {
        List<String> dirs = sources.stream().map(fs::partDir).toList();
        SampledRows.Sum stored = SampledRows.kernel(spark, dirs, in);
        report.put(
            "sampled_kernel",
            stored != null
                ? "from the files' stored sample rows"
                : "featurized again: a file's stored sample is smaller than the table now needs");
        yield stored != null
            ? new Kernel(stored.kernel(), stored.rows())
            : sampled(train, assignment, in);
      }
      case GROUP_SUMS, GROUP_ROWS, GROUP_FISHER ->
          fromRows(blocks, in.spec().moment(), in.k(), slots, groups);
    };
  }

  private static Kernel storedSum(
      SparkSession spark, FeatureStore fs, List<FeatureStore.Source> sources, int slots) {
    double[][] sum = new double[slots][];
    long[] rows = new long[slots];
    for (FeatureStore.Source s : sources) {
      double[][] part = FeatureCheckpoint.kernel(spark, fs.partDir(s));
      long[] partRows = FeatureCheckpoint.kernelRows(spark, fs.partDir(s));
      for (int i = 0; i < slots; i++) {
        sum[i] = sum[i] == null ? part[i].clone() : addInto(sum[i], part[i]);
        rows[i] += partRows[i];
      }
    }
    return new Kernel(sum, rows);
  }

  /**
   * The sampled kernel over today's sample: a featurize pass over the sampled examples only (when a
   * stored file's sample is smaller than today's: the table shrank).
   */
  private static Kernel sampled(LoadedData train, Dataset<Row> assignment, Inputs in) {
    long seed = in.spec().sampleSeed();
    double fraction = in.spec().sampleFraction();
    int idIndex = java.util.Arrays.asList(train.examples().columns()).indexOf(Columns.EXAMPLE_ID);
    Dataset<Row> sample =
        train
            .examples()
            .filter(
                (FilterFunction<Row>)
                    r -> Seeds.unit(Seeds.mix(seed, r.getLong(idIndex))) < fraction);
    FeaturizeStage.Featurized f =
        FeaturizeStage.run(
            sample,
            assignment,
            in.arch(),
            in.slots(),
            in.spec(),
            in.groupsPerBlock(),
            in.partitions(),
            in.device());
    f.blocks.unpersist(false);
    return new Kernel(f.kernel, f.kernelRows);
  }

  /** A moment of the whole group rows, block by block as featurize forms it, reduced in double. */
  /** Every slot's moment in one pass over the blocks; each group is one row of it. */
  private static Kernel fromRows(
      JavaRDD<BlockFeatures> blocks, Featurizer.Moment moment, int k, int slots, long groups) {
    double[][] sum =
        blocks
            .map(
                b -> {
                  double[][] perSlot = new double[slots][];
                  for (int s = 0; s < slots; s++) {
                    perSlot[s] =
                        Featurizer.groupMoment(
                            moment,
                            moment == Featurizer.Moment.GROUP_SUMS ? b.margin[s] : b.loss[s],
                            b.groups(),
                            k,
                            b.sizes,
                            b.qSums == null ? null : b.qSums[s]);
                  }
                  return perSlot;
                })
            .treeReduce(
                (a, b) -> {
                  for (int s = 0; s < a.length; s++) {
                    addInto(a[s], b[s]);
                  }
                  return a;
                });
    long[] rows = new long[slots];
    java.util.Arrays.fill(rows, groups);
    return new Kernel(sum, rows);
  }

  private static double[] addInto(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  /**
   * What the stored rows depend on: the model (architecture and every slot's parameters), the
   * featurize spec but the sample fraction (the rows do not depend on it) and the grouping.
   */
  static String keyJson(Inputs in) {
    ObjectNode n = JSON.createObjectNode();
    n.put("format", 2);
    n.put("architecture", in.arch().toString());
    n.put("model_sha256", modelHash(in.slots()));
    Featurizer.Spec s = in.spec();
    n.put("projection", s.projection().name())
        .put("dim", s.dim())
        .put("seed", s.seed())
        .put("margin_sums", s.marginSums())
        .put("moment", s.moment().name())
        .put("sample_seed", s.sampleSeed())
        .put("pass_rows", s.passRows())
        .put("k", in.k())
        .put("grouping", in.grouping());
    return n.toString();
  }

  private static String modelHash(FeaturizeStage.Slots slots) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (int s = 0; s < slots.size(); s++) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 * slots.params()[s].length);
        b.putInt(slots.member(s)).putInt(slots.checkpointIndex(s));
        b.asFloatBuffer().put(slots.params()[s]);
        d.update(b.array());
      }
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
