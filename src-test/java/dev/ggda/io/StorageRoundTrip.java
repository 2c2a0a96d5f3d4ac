package dev.ggda.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.cli.Main;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The same small job with its input and output on some Hadoop filesystem (hdfs://, s3a://) and on
 * the local one, for the storage integration tests: a seeded 3-class Gaussian mixture written as a
 * Parquet training set and a CSV target set, a logistic model, random groups, TRAK.
 */
final class StorageRoundTrip {
  static final int TRAIN_ROWS = 600;
  static final int TARGET_ROWS = 30;
  static final int DIM = 8;
  static final int CLASSES = 3;
  static final int GROUP_SIZE = 10;

  private static Map<Long, Map<Long, Double>> localScores;

  private StorageRoundTrip() {}

  /** Writes train.parquet and targets.csv under {@code base} (a directory URI). */
  static void writeInputs(SparkSession spark, String base) {
    Random rnd = new Random(7);
    double[][] means = new double[CLASSES][DIM];
    for (double[] m : means) {
      for (int j = 0; j < DIM; j++) {
        m[j] = 2 * rnd.nextGaussian();
      }
    }
    List<Row> train = new ArrayList<>();
    for (int i = 0; i < TRAIN_ROWS; i++) {
      int label = rnd.nextInt(CLASSES);
      double[] x = new double[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = means[label][j] + rnd.nextGaussian();
      }
      train.add(RowFactory.create(1000L + i, label, x));
    }
    StructType trainSchema =
        new StructType(
            new StructField[] {
              DataTypes.createStructField("id", DataTypes.LongType, false),
              DataTypes.createStructField("label", DataTypes.IntegerType, false),
              DataTypes.createStructField(
                  "features", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
            });
    spark
        .createDataFrame(train, trainSchema)
        .repartition(3)
        .write()
        .parquet(base + "/train.parquet");

    List<Row> targets = new ArrayList<>();
    List<StructField> fields =
        new ArrayList<>(
            List.of(
                DataTypes.createStructField("id", DataTypes.LongType, false),
                DataTypes.createStructField("label", DataTypes.IntegerType, false)));
    for (int j = 0; j < DIM; j++) {
      fields.add(DataTypes.createStructField("f" + j, DataTypes.DoubleType, false));
    }
    for (int i = 0; i < TARGET_ROWS; i++) {
      int label = rnd.nextInt(CLASSES);
      Object[] row = new Object[2 + DIM];
      row[0] = (long) i;
      row[1] = label;
      for (int j = 0; j < DIM; j++) {
        row[2 + j] = means[label][j] + rnd.nextGaussian();
      }
      targets.add(RowFactory.create(row));
    }
    Dataset<Row> t =
        spark.createDataFrame(targets, new StructType(fields.toArray(new StructField[0])));
    t.coalesce(1).write().option("header", "true").csv(base + "/targets.csv");
  }

  static String[] args(String base, String out) {
    List<String> sets =
        List.of(
            "data.train.path=" + base + "/train.parquet",
            "data.train.format=parquet",
            "data.targets.path=" + base + "/targets.csv",
            "data.targets.format=csv",
            "data.classes=" + CLASSES,
            "model.kind=logistic",
            "train.epochs=2",
            "train.batch_size=32",
            "train.checkpoints=1",
            "group.method=random",
            "group.size=" + GROUP_SIZE,
            "attribute.method=trak",
            "attribute.projection.dim=16",
            "attribute.kernel=batched",
            "output.path=" + out);
    List<String> a = new ArrayList<>(List.of("run"));
    for (String s : sets) {
      a.add("--set");
      a.add(s);
    }
    return a.toArray(new String[0]);
  }

  /**
   * Writes the inputs under {@code base}, runs the job with output {@code out}; asserts success.
   */
  static void run(SparkSession spark, String base, String out) {
    writeInputs(spark, base);
    assertEquals(
        0, Main.execute(args(base, out)), "ggda run with input " + base + " and output " + out);
  }

  /** Scores of the same job on the local filesystem, computed once per JVM. */
  static synchronized Map<Long, Map<Long, Double>> localScores() throws IOException {
    if (localScores == null) {
      java.nio.file.Path dir = Files.createTempDirectory("ggda-storage-local");
      SparkSession spark = SparkTestSession.get();
      String base = dir.toUri().toString();
      run(spark, base, base + "/out");
      localScores = ScoreTables.read(spark, base + "/out");
    }
    return localScores;
  }

  /**
   * Checks a completed run under {@code out} through its filesystem: _SUCCESS, every table with the
   * expected row counts, run.json and the saved model, and no staging folder left beside it.
   */
  static JsonNode assertCompleteOutput(SparkSession spark, String out) throws IOException {
    Path root = new Path(out);
    FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
    assertTrue(fs.exists(new Path(root, RunOutput.SUCCESS)), "_SUCCESS under " + out);
    long groups = spark.read().parquet(out + "/group_values").count();
    assertEquals(TRAIN_ROWS / GROUP_SIZE, groups, "groups");
    assertEquals(TRAIN_ROWS, spark.read().parquet(out + "/groups").count(), "groups/ rows");
    assertEquals(
        TRAIN_ROWS,
        spark.read().parquet(out + "/group_stats").groupBy().sum("size").first().getLong(0));
    assertEquals(
        groups * TARGET_ROWS, spark.read().parquet(out + "/scores").count(), "scores/ rows");
    assertEquals(
        groups, spark.read().parquet(out + "/self_influence").count(), "self_influence/ rows");
    assertTrue(fs.exists(new Path(root, "model/model.json")), "model/model.json under " + out);
    for (FileStatus sibling : fs.listStatus(root.getParent())) {
      assertFalse(
          sibling.getPath().getName().contains("staging"),
          "staging folder left: " + sibling.getPath());
    }
    try (InputStream in = fs.open(new Path(root, "run.json"))) {
      JsonNode run = new ObjectMapper().readTree(in);
      assertEquals(TRAIN_ROWS, run.at("/counts/train_rows").asInt(), run.toString());
      return run;
    }
  }
}
