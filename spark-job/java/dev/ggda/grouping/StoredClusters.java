package dev.ggda.grouping;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.config.GroupConfig;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.io.FileVersion;
import dev.ggda.io.HadoopFiles;
import dev.ggda.spark.SmallTables;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * K-means groups that stay put as the training table grows ({@code incremental.store}): the centres
 * are fitted once and kept, every example belongs to its nearest centre ({@link Centres}), and each
 * input file's assignment is recorded, so a later run computes clustering features only for the
 * files it has not seen, and an example never changes group while its file is unchanged.
 *
 * <pre>
 * STORE/clusterings/SETTINGS/GEN/centres/            (level, id, parent, vec): the stored centres
 * STORE/clusterings/SETTINGS/GEN/clustering.json     what was fitted, on how many rows
 * STORE/clusterings/SETTINGS/GEN/_DONE               the centres are complete
 * STORE/clusterings/SETTINGS/GEN/assigned/BATCH/part=P/  (example_id, centre) of file version P
 * STORE/clusterings/SETTINGS/GEN/versions/V          one marker per table version grouped by it
 * </pre>
 *
 * SETTINGS hashes the method, size or count, seed, normalisation and, for features of the model,
 * the model's parameters; GEN numbers the clusterings of those settings (a refit is the next one).
 * A table version is the set of its input file versions, so a retried run does not count twice.
 */
final class StoredClusters {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CENTRE = "centre";
  private static final String PART = "part";
  private static final String DONE = "_DONE";

  /** What a run's grouping took from the store, for the featurize key and run.json. */
  record Outcome(DenseIds.Dense dense, StoredClustering stored) {}

  private StoredClusters() {}

  /** The clustering a run uses: its folder, centres, why it was fitted now, its features. */
  private record Chosen(Path gen, Centres centres, String refit, Dataset<Row> features) {}

  static Outcome assign(
      SparkSession spark,
      String store,
      GroupConfig g,
      long groups,
      LoadedData train,
      Broadcast<ModelSpec> spec,
      List<Dataset<Row>> scratch) {
    Configuration conf = HadoopFiles.conf(spark);
    Dataset<Row> sources = train.requireSources().persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(sources);
    Map<String, FileVersion> files = versions(sources, conf);
    String tableVersion =
        FileVersion.shortHash(String.join("\n", files.values().stream().map(v -> v.id()).toList()));
    Path settings = new Path(new Path(store, "clusterings"), settingsHash(g, groups, spec));
    Chosen c = choose(spark, settings, tableVersion, g, groups, train, spec, scratch);
    HadoopFiles.writeString(new Path(new Path(c.gen(), "versions"), tableVersion), "", conf);
    Map<String, Path> recorded = recorded(c.gen(), conf);
    List<FileVersion> fresh =
        files.values().stream().filter(v -> !recorded.containsKey(v.id())).toList();
    long rowsAssigned = 0;
    if (!fresh.isEmpty()) {
      Dataset<Row> features =
          c.features() != null ? c.features() : featuresOf(fresh, sources, train, g, spec, scratch);
      rowsAssigned = record(spark, c.gen(), nearest(spark, features, c.centres()), sources, fresh);
      recorded.putAll(recorded(c.gen(), conf));
    }
    List<String> paths = files.values().stream().map(v -> recorded.get(v.id()).toString()).toList();
    Dataset<Row> keyed = spark.read().parquet(paths.toArray(String[]::new));
    String id = settings.getName() + "/" + c.gen().getName();
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("clustering", id);
    if (c.refit() != null) {
      report.put("refit", c.refit());
    }
    report.put("centres", c.centres().groups());
    report.put("fitted_on_rows", fittedRows(c.gen(), conf));
    report.put(
        "table_versions", HadoopFiles.list(new Path(c.gen(), "versions"), false, conf).size());
    report.put("files_assigned", fresh.size());
    report.put("files_recorded", files.size() - fresh.size());
    report.put("rows_assigned", rowsAssigned);
    return new Outcome(DenseIds.byNamedKey(spark, keyed, CENTRE), new StoredClustering(id, report));
  }

  /** The latest complete clustering of these settings, or a new one when a refit is due. */
  private static Chosen choose(
      SparkSession spark,
      Path settings,
      String tableVersion,
      GroupConfig g,
      long groups,
      LoadedData train,
      Broadcast<ModelSpec> spec,
      List<Dataset<Row>> scratch) {
    Configuration conf = HadoopFiles.conf(spark);
    List<Path> gens =
        HadoopFiles.list(settings, true, conf).stream()
            .filter(p -> HadoopFiles.exists(new Path(p, DONE), conf))
            .toList();
    Path last = gens.isEmpty() ? null : gens.get(gens.size() - 1);
    String refit = refitReason(last, tableVersion, g.refitEvery(), conf);
    if (refit == null) {
      return new Chosen(last, read(spark, last), null, null);
    }
    Dataset<Row> features =
        KMeansGrouping.features(g.method(), g.seed(), g.normalize(), train, spec)
            .persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(features);
    Centres centres = fit(features, groups, g.seed(), scratch);
    Path gen = new Path(settings, String.format("gen-%06d", gens.size() + 1));
    write(spark, gen, centres, g, train.count());
    return new Chosen(gen, centres, refit, features);
  }

  /** Each input file (from the examples' sources) as it is now, by file name. */
  private static Map<String, FileVersion> versions(Dataset<Row> sources, Configuration conf) {
    Map<String, FileVersion> out = new TreeMap<>();
    for (Row r : sources.select(Columns.SOURCE_FILE).distinct().collectAsList()) {
      out.put(r.getString(0), FileVersion.of(r.getString(0), conf));
    }
    return out;
  }

  private static String settingsHash(GroupConfig g, long groups, Broadcast<ModelSpec> spec) {
    ObjectNode n = JSON.createObjectNode();
    n.put("format", 1)
        .put("method", g.method().name())
        .put("size", g.size())
        .put("count", g.count() == null ? -1 : g.count())
        .put("seed", g.seed())
        .put("normalize", g.normalize());
    if (g.method() != dev.ggda.config.GroupMethod.KMEANS_INPUT) {
      n.put("model_sha256", spec.value().fingerprint());
    }
    return FileVersion.shortHash(n.toString());
  }

  /** Why the groups must be clustered now, or null to keep the stored centres. */
  private static String refitReason(Path gen, String tableVersion, int every, Configuration conf) {
    if (gen == null) {
      return "no clustering stored for this method, size, seed and model";
    }
    Path versions = new Path(gen, "versions");
    int served = HadoopFiles.list(versions, false, conf).size();
    if (every > 0
        && served >= every
        && !HadoopFiles.exists(new Path(versions, tableVersion), conf)) {
      return "group.refit_every: "
          + every
          + ": the stored centres served "
          + served
          + " table versions";
    }
    return null;
  }

  /**
   * k-means as a full run clusters, then the centres as the means of their clusters' features (the
   * coarse ones too, for two levels).
   */
  private static Centres fit(
      Dataset<Row> features, long groups, long seed, List<Dataset<Row>> scratch) {
    KMeansGrouping.Keyed keyed = KMeansGrouping.cluster(features, groups, seed);
    Dataset<Row> clusters = keyed.table().persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(clusters);
    Dataset<Row> joined = clusters.join(features, Columns.EXAMPLE_ID);
    boolean twoLevel = keyed.keys().length == 2;
    List<Row> fine = means(joined, keyed.keys());
    double[][] fineC = new double[fine.size()][];
    int[] parent = new int[fine.size()];
    double[][] coarseC = new double[0][];
    Map<Integer, Integer> coarseIndex = new TreeMap<>();
    if (twoLevel) {
      List<Row> coarse = means(joined, keyed.keys()[0]);
      coarseC = new double[coarse.size()][];
      for (int j = 0; j < coarse.size(); j++) {
        coarseIndex.put(coarse.get(j).getInt(0), j);
        coarseC[j] = ((Vector) coarse.get(j).get(1)).toArray();
      }
    }
    int keys = keyed.keys().length;
    for (int i = 0; i < fine.size(); i++) {
      Row r = fine.get(i);
      fineC[i] = ((Vector) r.get(keys)).toArray();
      parent[i] = twoLevel ? coarseIndex.get(r.getInt(0)) : -1;
    }
    return Centres.of(coarseC, fineC, parent);
  }

  /** (keys..., mean vec) of every cluster, in key order. */
  private static List<Row> means(Dataset<Row> joined, String... keys) {
    org.apache.spark.sql.Column[] k =
        java.util.Arrays.stream(keys)
            .map(functions::col)
            .toArray(org.apache.spark.sql.Column[]::new);
    return joined
        .groupBy(k)
        .agg(Summarizer.mean(col(ModelFeatures.VEC)).as(ModelFeatures.VEC))
        .sort(k)
        .collectAsList();
  }

  private static final StructType CENTRES =
      new StructType()
          .add("level", DataTypes.IntegerType, false)
          .add("id", DataTypes.IntegerType, false)
          .add("parent", DataTypes.IntegerType, false)
          .add(ModelFeatures.VEC, DataTypes.createArrayType(DataTypes.DoubleType, false), false);

  private static void write(SparkSession spark, Path gen, Centres c, GroupConfig g, long rows) {
    List<Row> out = new ArrayList<>();
    for (int j = 0; j < c.coarseCount(); j++) {
      out.add(RowFactory.create(0, j, -1, c.coarse(j)));
    }
    for (int i = 0; i < c.groups(); i++) {
      out.add(RowFactory.create(1, i, c.parent(i), c.fine(i)));
    }
    spark
        .createDataFrame(out, CENTRES)
        .coalesce(1)
        .write()
        .mode("overwrite")
        .parquet(new Path(gen, "centres").toString());
    ObjectNode n = JSON.createObjectNode();
    n.put("method", g.method().name())
        .put("size", g.size())
        .put("seed", g.seed())
        .put("centres", c.groups())
        .put("coarse_centres", c.coarseCount())
        .put("fitted_on_rows", rows);
    Configuration conf = HadoopFiles.conf(spark);
    HadoopFiles.writeString(new Path(gen, "clustering.json"), n.toPrettyString(), conf);
    HadoopFiles.writeString(new Path(gen, DONE), "", conf);
  }

  private static Centres read(SparkSession spark, Path gen) {
    List<Row> rows =
        spark
            .read()
            .parquet(new Path(gen, "centres").toString())
            .sort("level", "id")
            .collectAsList();
    List<double[]> coarse = new ArrayList<>();
    List<double[]> fine = new ArrayList<>();
    List<Integer> parent = new ArrayList<>();
    for (Row r : rows) {
      double[] v = r.getList(3).stream().mapToDouble(x -> (Double) x).toArray();
      if (r.getInt(0) == 0) {
        coarse.add(v);
      } else {
        fine.add(v);
        parent.add(r.getInt(2));
      }
    }
    return Centres.of(
        coarse.toArray(double[][]::new),
        fine.toArray(double[][]::new),
        parent.stream().mapToInt(Integer::intValue).toArray());
  }

  private static long fittedRows(Path gen, Configuration conf) {
    try {
      return JSON.readTree(HadoopFiles.readString(new Path(gen, "clustering.json"), conf))
          .path("fitted_on_rows")
          .asLong();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + gen, e);
    }
  }

  /** The recorded assignment folder of every file version, from the complete batches. */
  private static Map<String, Path> recorded(Path gen, Configuration conf) {
    Map<String, Path> out = new TreeMap<>();
    for (Path batch : HadoopFiles.list(new Path(gen, "assigned"), true, conf)) {
      if (!HadoopFiles.exists(new Path(batch, "_SUCCESS"), conf)) {
        continue;
      }
      for (Path part : HadoopFiles.list(batch, true, conf)) {
        String name = part.getName();
        if (name.startsWith(PART + "=")) {
          out.putIfAbsent(name.substring(PART.length() + 1), part);
        }
      }
    }
    return out;
  }

  /** The clustering features of the examples of the given files only. */
  private static Dataset<Row> featuresOf(
      List<FileVersion> files,
      Dataset<Row> sources,
      LoadedData train,
      GroupConfig g,
      Broadcast<ModelSpec> spec,
      List<Dataset<Row>> scratch) {
    Dataset<Row> ids =
        sources
            .filter(
                col(Columns.SOURCE_FILE)
                    .isInCollection(files.stream().map(FileVersion::file).toList()))
            .select(Columns.EXAMPLE_ID)
            .persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(ids);
    long n = ids.count();
    Dataset<Row> examples =
        train.examples().join(SmallTables.hinted(ids, n), Columns.EXAMPLE_ID, "left_semi");
    LoadedData subset = new LoadedData(examples, train.dim(), train.classes(), n);
    Dataset<Row> features =
        KMeansGrouping.features(g.method(), g.seed(), g.normalize(), subset, spec)
            .persist(StorageLevel.MEMORY_AND_DISK());
    scratch.add(features);
    return features;
  }

  /** (example_id, centre): each example's nearest stored centre, named c0, c1, ... */
  private static Dataset<Row> nearest(SparkSession spark, Dataset<Row> features, Centres centres) {
    Broadcast<Centres> b =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(centres);
    JavaRDD<Row> rows =
        features
            .select(Columns.EXAMPLE_ID, ModelFeatures.VEC)
            .javaRDD()
            .map(
                r ->
                    RowFactory.create(
                        r.getLong(0), "c" + b.value().nearest(((Vector) r.get(1)).toArray())));
    return spark.createDataFrame(
        rows,
        new StructType()
            .add(Columns.EXAMPLE_ID, DataTypes.LongType, false)
            .add(CENTRE, DataTypes.StringType, false));
  }

  /** Writes the new files' assignments as one batch, a folder per file version; returns rows. */
  private static long record(
      SparkSession spark,
      Path gen,
      Dataset<Row> assigned,
      Dataset<Row> sources,
      List<FileVersion> files) {
    List<Row> parts = new ArrayList<>();
    for (FileVersion v : files) {
      parts.add(RowFactory.create(v.file(), v.id()));
    }
    Dataset<Row> partOf =
        spark.createDataFrame(
            parts,
            new StructType()
                .add(Columns.SOURCE_FILE, DataTypes.StringType, false)
                .add(PART, DataTypes.StringType, false));
    Dataset<Row> rows =
        assigned
            .join(sources, Columns.EXAMPLE_ID)
            .join(functions.broadcast(partOf), Columns.SOURCE_FILE)
            .select(Columns.EXAMPLE_ID, CENTRE, PART)
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      String batch =
          FileVersion.shortHash(String.join("\n", files.stream().map(FileVersion::id).toList()));
      rows.write()
          .partitionBy(PART)
          .mode("overwrite")
          .parquet(new Path(new Path(gen, "assigned"), batch).toString());
      return rows.count();
    } finally {
      rows.unpersist(false);
    }
  }
}
