package dev.ggda.data;

import static dev.ggda.data.DataFixtures.contentById;
import static dev.ggda.data.DataFixtures.source;
import static dev.ggda.data.DataFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.DataFormat;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Derived ids depend on content only: not on file layout, row order or partitioning. */
class DataIdStabilityTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  /**
   * 40 rows: 37 distinct, plus a row repeated 3 times and one repeated twice (exact duplicates).
   */
  private static List<String> csvRows() {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < 35; i++) rows.add((i % 3) + "," + (i * 0.5) + "," + (i % 7));
    for (int k = 0; k < 3; k++) rows.add("1,9.5,9");
    for (int k = 0; k < 2; k++) rows.add("0,0.25,1");
    return rows;
  }

  @Test
  void csvIdsSurviveReorderingFileSplittingAndSmallPartitions() {
    List<String> rows = csvRows();
    Path one = dir.resolve("one");
    write(one, "all.csv", "label,a,b\n" + String.join("\n", rows) + "\n");

    List<String> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(4));
    Path three = dir.resolve("three");
    for (int f = 0; f < 3; f++) {
      List<String> part = shuffled.subList(f * shuffled.size() / 3, (f + 1) * shuffled.size() / 3);
      write(three, "part" + f + ".csv", "label,a,b\n" + String.join("\n", part) + "\n");
    }

    LoadedData a = DataLoader.load(spark, source(one.toString(), DataFormat.CSV), null, "train");
    String old = spark.conf().get("spark.sql.files.maxPartitionBytes");
    LoadedData b;
    Map<Long, String> bContent;
    try {
      // tiny splits: the files are cut into many partitions
      spark.conf().set("spark.sql.files.maxPartitionBytes", "64");
      b = DataLoader.load(spark, source(three.toString(), DataFormat.CSV), null, "train");
      assertTrue(b.examples().rdd().getNumPartitions() > 3, "expected the files to be split");
      bContent = contentById(LocalData.collect(b));
    } finally {
      spark.conf().set("spark.sql.files.maxPartitionBytes", old);
    }
    Map<Long, String> aContent = contentById(LocalData.collect(a));
    assertEquals(40, a.count());
    assertEquals(40, aContent.size(), "ids are unique, duplicates included");
    assertEquals(aContent, bContent);
  }

  @Test
  void parquetIdsSurviveRepartitioningAndMatchCsv() {
    StructType schema =
        new StructType()
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
    List<Row> rows = new ArrayList<>();
    for (String line : csvRows()) {
      String[] p = line.split(",");
      rows.add(
          RowFactory.create(
              Integer.parseInt(p[0]),
              new double[] {Double.parseDouble(p[1]), Double.parseDouble(p[2])}));
    }
    String p1 = dir.resolve("p1").toString();
    String p4 = dir.resolve("p4").toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p1);
    spark.createDataFrame(rows, schema).repartition(4).write().parquet(p4);

    Map<Long, String> one =
        contentById(
            LocalData.collect(
                DataLoader.load(spark, source(p1, DataFormat.PARQUET), null, "train")));
    Map<Long, String> four =
        contentById(
            LocalData.collect(
                DataLoader.load(spark, source(p4, DataFormat.PARQUET), null, "train")));
    assertEquals(40, one.size());
    assertEquals(one, four);

    write(dir, "same.csv", "label,a,b\n" + String.join("\n", csvRows()) + "\n");
    Map<Long, String> csv =
        contentById(
            LocalData.collect(
                DataLoader.load(
                    spark,
                    source(dir.resolve("same.csv").toString(), DataFormat.CSV),
                    null,
                    "train")));
    assertEquals(one, csv, "same content, same ids, whatever the format");
  }
}
