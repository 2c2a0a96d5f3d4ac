package dev.ggda.apps;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

/**
 * Writes the pruned training set (the input minus the dropped examples) in the input's format:
 *
 * <ul>
 *   <li>Parquet or CSV with an id column: the input table itself, every column kept, filtered row
 *       by row (no shuffle, so one output file per input split, as the input was partitioned);
 *   <li>Parquet or CSV whose ids are derived from content, and LibSVM: the canonical rows (id,
 *       label, features; CSV with one column per feature) in that format, partitioned like the
 *       loaded input;
 *   <li>IDX: the two gzipped IDX files (images, labels) of the kept examples in id order; the ids
 *       of a re-read file are then positions 0..kept-1 (the manifest maps them);
 *   <li>synthetic: Parquet canonical rows (the generator has no file form).
 * </ul>
 *
 * Dropped ids are broadcast as one sorted long[] (8 bytes per dropped example).
 */
public final class PrunedData {
  private PrunedData() {}

  /** Writes under {@code dir}; returns what was written (format, mode, files) for the manifest. */
  public static Map<String, Object> write(
      SparkSession spark, DataSource spec, LoadedData train, long[] droppedIdsSorted, String dir) {
    Broadcast<long[]> dropped =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(droppedIdsSorted);
    var keep =
        udf(
            (UDF1<Long, Boolean>) id -> id != null && Arrays.binarySearch(dropped.value(), id) < 0,
            DataTypes.BooleanType);
    Map<String, Object> info = new LinkedHashMap<>();
    DataFormat format = spec.format();
    if ((format == DataFormat.PARQUET || format == DataFormat.CSV) && spec.idCol() != null) {
      Dataset<Row> raw =
          format == DataFormat.PARQUET
              ? spark.read().parquet(spec.path())
              : spark
                  .read()
                  .option("header", "true")
                  .option("inferSchema", "true")
                  .csv(spec.path());
      if (Arrays.asList(raw.columns()).contains(spec.idCol())) {
        Dataset<Row> kept = raw.where(keep.apply(col(spec.idCol()).cast(DataTypes.LongType)));
        if (format == DataFormat.PARQUET) {
          kept.write().mode(SaveMode.Overwrite).parquet(dir);
        } else {
          kept.write().mode(SaveMode.Overwrite).option("header", "true").csv(dir);
        }
        info.put("format", format == DataFormat.PARQUET ? "parquet" : "csv");
        info.put("rows", "the input's own rows and columns, filtered by " + spec.idCol());
        return info;
      }
    }
    Dataset<Row> kept = train.examples().where(keep.apply(col(Columns.EXAMPLE_ID)));
    String idCol = spec.idCol() == null ? "id" : spec.idCol();
    String labelCol = spec.labelCol();
    String featuresCol = spec.featuresCol();
    switch (format) {
      case PARQUET, SYNTHETIC -> {
        List<Column> cols =
            new ArrayList<>(
                List.of(
                    col(Columns.EXAMPLE_ID).as(idCol),
                    col(Columns.LABEL).as(labelCol),
                    col(Columns.FEATURES).as(featuresCol)));
        if (train.hasGroup()) {
          cols.add(col(Columns.GROUP).as(spec.groupCol()));
        }
        kept.select(cols.toArray(Column[]::new)).write().mode(SaveMode.Overwrite).parquet(dir);
        info.put("format", "parquet");
        info.put(
            "rows",
            "canonical: "
                + idCol
                + ", "
                + labelCol
                + ", "
                + featuresCol
                + (train.hasGroup() ? ", " + spec.groupCol() : ""));
      }
      case CSV -> {
        List<Column> cols =
            new ArrayList<>(
                List.of(col(Columns.EXAMPLE_ID).as(idCol), col(Columns.LABEL).as(labelCol)));
        if (train.hasGroup()) {
          cols.add(col(Columns.GROUP).as(spec.groupCol()));
        }
        for (int j = 0; j < train.dim(); j++) {
          cols.add(col(Columns.FEATURES).getItem(j).as("f" + j));
        }
        kept.select(cols.toArray(Column[]::new))
            .write()
            .mode(SaveMode.Overwrite)
            .option("header", "true")
            .csv(dir);
        info.put("format", "csv");
        info.put("rows", "canonical: " + idCol + ", " + labelCol + ", one column f<j> per feature");
      }
      case LIBSVM -> {
        kept.select(
                col(Columns.LABEL).cast(DataTypes.DoubleType).as("label"),
                org.apache.spark.ml.functions.array_to_vector(col(Columns.FEATURES)).as("features"))
            .write()
            .mode(SaveMode.Overwrite)
            .format("libsvm")
            .save(dir);
        info.put("format", "libsvm");
        info.put("rows", "label and features of the kept examples");
      }
      case IDX -> {
        writeIdx(
            spark,
            new LoadedData(
                kept, train.dim(), train.classes(), train.count() - droppedIdsSorted.length),
            dir);
        info.put("format", "idx");
        info.put(
            "rows",
            "train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz of the kept examples in example_id order;"
                + " read back, example ids are positions 0..kept-1 in the order of the original example ids");
      }
      default -> throw new IllegalStateException("unknown format " + format);
    }
    return info;
  }

  /** The kept examples as IDX (pixels back to bytes: round(x * 255) clamped to [0, 255]). */
  static void writeIdx(SparkSession spark, LoadedData kept, String dir) {
    LocalData local = LocalData.collect(kept);
    int dim = local.dim();
    int side = (int) Math.round(Math.sqrt(dim));
    int rows = side * side == dim ? side : 1;
    int cols = side * side == dim ? side : dim;
    try {
      FileSystem fs = new Path(dir).getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.mkdirs(new Path(dir));
      try (DataOutputStream out = gz(fs, new Path(dir, "train-images-idx3-ubyte.gz"))) {
        out.writeInt(0x00000803);
        out.writeInt(local.size());
        out.writeInt(rows);
        out.writeInt(cols);
        float[] x = local.features();
        byte[] buf = new byte[dim];
        for (int i = 0; i < local.size(); i++) {
          for (int j = 0; j < dim; j++) {
            buf[j] = (byte) Math.max(0, Math.min(255, Math.round(x[i * dim + j] * 255f)));
          }
          out.write(buf);
        }
      }
      try (DataOutputStream out = gz(fs, new Path(dir, "train-labels-idx1-ubyte.gz"))) {
        out.writeInt(0x00000801);
        out.writeInt(local.size());
        for (int l : local.labels()) {
          out.writeByte(l);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the pruned IDX files under " + dir + ": " + e.getMessage(), e);
    }
  }

  private static DataOutputStream gz(FileSystem fs, Path p) throws IOException {
    OutputStream raw = fs.create(p, true);
    return new DataOutputStream(
        new java.io.BufferedOutputStream(new GZIPOutputStream(raw, 1 << 16), 1 << 16));
  }
}
