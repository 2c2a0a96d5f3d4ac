package dev.ggda.featurize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.data.Columns;
import dev.ggda.io.Npy;
import dev.ggda.io.NpyArray;
import dev.ggda.math.Featurizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * The featurize stage's result on disk, so that {@code output.mode: resume} does not featurize the
 * groups again: one Parquet row per group (block, group id, size, per-slot loss and margin features
 * and Q sums concatenated) plus the reduced k x k kernels as .npy and a small meta.json. Plain data
 * only: no Java serialization is ever read back. {@code _DONE} is written last, so a half-written
 * checkpoint is never used.
 */
public final class FeatureCheckpoint {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DONE = "_DONE";

  private FeatureCheckpoint() {}

  public static boolean exists(String dir, Configuration conf) {
    try {
      Path d = new Path(dir);
      return d.getFileSystem(conf).exists(new Path(d, DONE));
    } catch (IOException e) {
      return false;
    }
  }

  public static void save(
      SparkSession spark, FeaturizeStage.Featurized result, int slots, int k, String dir) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    // Rows are sliced one at a time as the writer pulls them: a per-example block of many members
    // is hundreds of MB, and copying all its rows first doubled that (10 members x k 2,048 ran a
    // 5 GB heap out of memory).
    JavaRDD<Row> rows =
        result.blocks.flatMap(
            b ->
                java.util.stream.IntStream.range(0, b.groups())
                    .mapToObj(
                        j ->
                            RowFactory.create(
                                b.block,
                                b.groupIds[j],
                                b.sizes[j],
                                slice(b.loss, j, k),
                                b.margin == null ? null : slice(b.margin, j, k),
                                b.qSums == null ? null : slice(b.qSums, j, 1)))
                    .iterator());
    spark.createDataFrame(rows, schema()).write().mode("overwrite").parquet(dir + "/blocks");
    try {
      Path d = new Path(dir);
      FileSystem fs = d.getFileSystem(conf);
      ObjectNode meta = JSON.createObjectNode();
      meta.put("slots", slots)
          .put("k", k)
          .put("groups", result.groups)
          .put("kernel", result.kernel != null);
      var rowsNode = meta.putArray("kernel_rows");
      for (long r : result.kernelRows) {
        rowsNode.add(r);
      }
      if (result.kernel != null) {
        for (int s = 0; s < slots; s++) {
          Npy.write(
              fs, new Path(d, "kernel-" + s + ".npy"), NpyArray.ofDoubles(result.kernel[s], k, k));
        }
      }
      try (OutputStream out = fs.create(new Path(d, "meta.json"), true)) {
        out.write(JSON.writeValueAsBytes(meta));
      }
      fs.create(new Path(d, DONE), true).close();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the featurize checkpoint under " + dir + ": " + e.getMessage(), e);
    }
  }

  public static FeaturizeStage.Featurized load(SparkSession spark, String dir, int partitions) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try {
      Path d = new Path(dir);
      FileSystem fs = d.getFileSystem(conf);
      JsonNode meta = meta(fs, d);
      int slots = meta.get("slots").asInt();
      int k = meta.get("k").asInt();
      long[] kernelRows = new long[slots];
      for (int s = 0; s < slots; s++) {
        kernelRows[s] = meta.get("kernel_rows").get(s).asLong();
      }
      double[][] kernel = null;
      if (meta.get("kernel").asBoolean()) {
        kernel = new double[slots][];
        for (int s = 0; s < slots; s++) {
          kernel[s] = Npy.read(fs, new Path(d, "kernel-" + s + ".npy")).doubles();
        }
      }
      JavaRDD<BlockFeatures> blocks =
          blocks(rows(spark, dir).javaRDD(), slots, k, partitions)
              .persist(StorageLevel.MEMORY_AND_DISK());
      return new FeaturizeStage.Featurized(blocks, kernel, kernelRows, meta.get("groups").asLong());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the featurize checkpoint under " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The saved group rows: (block, group_id, size, loss, margin, q_sum) as {@link #schema()}. */
  static Dataset<Row> rows(SparkSession spark, String dir) {
    return spark.read().parquet(dir + "/blocks");
  }

  /** The k x k kernel sums a checkpoint saved, per slot, or null when it kept none. */
  static double[][] kernel(SparkSession spark, String dir) {
    try {
      Path d = new Path(dir);
      FileSystem fs = d.getFileSystem(spark.sparkContext().hadoopConfiguration());
      JsonNode meta = meta(fs, d);
      if (!meta.get("kernel").asBoolean()) {
        return null;
      }
      int slots = meta.get("slots").asInt();
      double[][] kernel = new double[slots][];
      for (int s = 0; s < slots; s++) {
        kernel[s] = Npy.read(fs, new Path(d, "kernel-" + s + ".npy")).doubles();
      }
      return kernel;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the kernel sums under " + dir, e);
    }
  }

  /** Rows the saved kernel sums were summed over, per slot. */
  static long[] kernelRows(SparkSession spark, String dir) {
    try {
      Path d = new Path(dir);
      JsonNode meta = meta(d.getFileSystem(spark.sparkContext().hadoopConfiguration()), d);
      long[] out = new long[meta.get("slots").asInt()];
      for (int s = 0; s < out.length; s++) {
        out[s] = meta.get("kernel_rows").get(s).asLong();
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + "/meta.json", e);
    }
  }

  private static JsonNode meta(FileSystem fs, Path d) throws IOException {
    try (InputStream in = fs.open(new Path(d, "meta.json"))) {
      return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Group rows in {@link #schema()} cut back into blocks by their block column. */
  static JavaRDD<BlockFeatures> blocks(JavaRDD<Row> rows, int slots, int k, int partitions) {
    return rows.mapToPair(r -> new Tuple2<>(r.getInt(0), r))
        .groupByKey(partitions)
        .map(t -> toBlock(t._1(), t._2(), slots, k));
  }

  /** Rebuilds a block with its groups in id order, as featurize produced them. */
  private static BlockFeatures toBlock(int block, Iterable<Row> rows, int slots, int k) {
    List<Row> sorted = new ArrayList<>();
    rows.forEach(sorted::add);
    sorted.sort((a, b) -> Long.compare(a.getLong(1), b.getLong(1)));
    int m = sorted.size();
    long[] ids = new long[m];
    int[] sizes = new int[m];
    float[][] loss = new float[slots][m * k];
    boolean withMargin = !sorted.get(0).isNullAt(4);
    float[][] margin = withMargin ? new float[slots][m * k] : null;
    // A checkpoint written before Q sums were kept has five columns.
    boolean withQ = sorted.get(0).length() > 5 && !sorted.get(0).isNullAt(5);
    float[][] qSums = withQ ? new float[slots][m] : null;
    for (int j = 0; j < m; j++) {
      Row r = sorted.get(j);
      ids[j] = r.getLong(1);
      sizes[j] = r.getInt(2);
      unslice(values(r, 3), loss, j, k);
      if (withMargin) {
        unslice(values(r, 4), margin, j, k);
      }
      if (withQ) {
        unslice(values(r, 5), qSums, j, 1);
      }
    }
    return new BlockFeatures(
        block, new Featurizer.Output(ids, sizes, loss, margin, qSums, null, new long[slots]));
  }

  /** Group j's features of every slot, concatenated (slot-major). */
  private static float[] slice(float[][] perSlot, int j, int k) {
    float[] out = new float[perSlot.length * k];
    for (int s = 0; s < perSlot.length; s++) {
      System.arraycopy(perSlot[s], j * k, out, s * k, k);
    }
    return out;
  }

  /** An array column as read from Parquet (a list), or as summed by an incremental run. */
  static float[] values(Row r, int i) {
    Object v = r.get(i);
    if (v instanceof float[] f) {
      return f;
    }
    List<Float> list = r.getList(i);
    float[] out = new float[list.size()];
    for (int c = 0; c < out.length; c++) {
      out[c] = list.get(c);
    }
    return out;
  }

  private static void unslice(float[] values, float[][] perSlot, int j, int k) {
    for (int s = 0; s < perSlot.length; s++) {
      System.arraycopy(values, s * k, perSlot[s], j * k, k);
    }
  }

  static StructType schema() {
    return new StructType()
        .add("block", DataTypes.IntegerType, false)
        .add(Columns.GROUP_ID, DataTypes.LongType, false)
        .add(Columns.SIZE, DataTypes.IntegerType, false)
        .add("loss", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("margin", DataTypes.createArrayType(DataTypes.FloatType, false), true)
        .add("q_sum", DataTypes.createArrayType(DataTypes.FloatType, false), true);
  }
}
