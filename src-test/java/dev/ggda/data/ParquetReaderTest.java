package dev.ggda.data;

import static dev.ggda.data.DataFixtures.source;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParquetReaderTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  private String writeParquet(String name, StructType schema, List<Row> rows) {
    String path = dir.resolve(name).toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(path);
    return path;
  }

  @Test
  void readsMlVectorFeaturesWithLongIdsAndDoubleLabels() {
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType)
            .add("label", DataTypes.DoubleType)
            .add("features", new VectorUDT());
    String path =
        writeParquet(
            "vec",
            schema,
            List.of(
                RowFactory.create(20L, 1.0, Vectors.dense(0.5, -1.0, 2.0)),
                RowFactory.create(4L, 0.0, Vectors.sparse(3, new int[] {1}, new double[] {3.0}))));
    LoadedData d =
        DataLoader.load(spark, source("file://" + path, DataFormat.PARQUET), null, "train");
    assertEquals(Columns.schema(false), d.examples().schema());
    LocalData local = LocalData.collect(d);
    assertArrayEquals(new long[] {4, 20}, local.ids());
    assertArrayEquals(new int[] {0, 1}, local.labels());
    assertArrayEquals(new float[] {0f, 3f, 0f, 0.5f, -1f, 2f}, local.features());
    assertEquals(2, d.classes());
  }

  @Test
  void readsFloatAndDoubleArraysWithShortLabelsAndIntIds() {
    StructType floats =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("y", DataTypes.ShortType)
            .add("x", DataTypes.createArrayType(DataTypes.FloatType));
    String p1 =
        writeParquet(
            "floats",
            floats,
            List.of(
                RowFactory.create(1, (short) 2, new float[] {1.5f, 2.5f}),
                RowFactory.create(0, (short) 0, new float[] {0.25f, -3f})));
    DataSource s1 = new DataSource(p1, DataFormat.PARQUET, "id", "y", "x", null, null, null, null);
    LocalData a = LocalData.collect(DataLoader.load(spark, s1, null, "train"));
    assertArrayEquals(new int[] {0, 2}, a.labels());
    assertArrayEquals(new float[] {0.25f, -3f, 1.5f, 2.5f}, a.features());

    StructType doubles =
        new StructType()
            .add("label", DataTypes.ByteType)
            .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
    String p2 =
        writeParquet(
            "doubles",
            doubles,
            List.of(
                RowFactory.create((byte) 1, new double[] {0.1, 0.2}),
                RowFactory.create((byte) 0, new double[] {0.3, 0.4})));
    LoadedData b = DataLoader.load(spark, source(p2, DataFormat.PARQUET), null, "targets");
    assertEquals(2, b.dim());
    assertEquals(2, b.count());
    float[] f = LocalData.collect(b).features();
    float sum = 0;
    for (float v : f) sum += v;
    assertEquals(1.0f, sum, 1e-6f);
  }

  @Test
  void withoutFeaturesColumnEveryOtherNumericColumnIsAFeature() {
    StructType schema =
        new StructType()
            .add("b", DataTypes.DoubleType)
            .add("label", DataTypes.LongType)
            .add("name", DataTypes.StringType)
            .add("a", DataTypes.IntegerType)
            .add("shard", DataTypes.IntegerType);
    String path =
        writeParquet(
            "cols",
            schema,
            List.of(RowFactory.create(1.5, 1L, "x", 7, 3), RowFactory.create(2.5, 0L, "y", 8, 4)));
    DataSource s = DataFixtures.withGroup(source(path, DataFormat.PARQUET), "shard");
    LoadedData d = DataLoader.load(spark, s, null, "train");
    assertEquals(2, d.dim()); // b, a: not label, not the string, not the group
    List<Row> rows = d.examples().orderBy(Columns.LABEL).collectAsList();
    assertEquals("4", rows.get(0).getString(3));
    assertEquals(List.of(2.5f, 8f), rows.get(0).getList(2));
  }
}
