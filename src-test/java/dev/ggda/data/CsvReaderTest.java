package dev.ggda.data;

import static dev.ggda.data.DataFixtures.source;
import static dev.ggda.data.DataFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.DataFormat;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvReaderTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  @Test
  void readsIdLabelGroupAndNumericFeatureColumnsInSchemaOrder() {
    Path csv = write(dir, "a.csv", """
        x1,id,label,source,x2,note
        0.5,10,1,web,-2,hello
        1.5,3,0,book,4.25,world
        2,7,2,web,0,x
        """);
    LoadedData d = DataLoader.load(spark, DataFixtures.withGroup(source(csv.toString(), DataFormat.CSV), "source"), null, "train");
    assertEquals(3, d.count());
    assertEquals(2, d.dim());
    assertEquals(3, d.classes());
    assertEquals(Columns.schema(true), d.examples().schema());

    LocalData local = LocalData.collect(d);
    assertArrayEquals(new long[] {3, 7, 10}, local.ids());
    assertArrayEquals(new int[] {0, 2, 1}, local.labels());
    assertArrayEquals(new float[] {1.5f, 4.25f, 2f, 0f, 0.5f, -2f}, local.features());
    List<Row> groups = d.examples().orderBy(Columns.EXAMPLE_ID).select(Columns.GROUP).collectAsList();
    assertEquals(List.of("book", "web", "web"), groups.stream().map(r -> r.getString(0)).toList());
  }

  @Test
  void derivesIdsWhenThereIsNoIdColumnAndHonoursConfiguredClasses() {
    Path csv = write(dir, "b.csv", """
        label,a,b
        1.0,0.1,0.2
        0.0,0.3,0.4
        """);
    LoadedData d = DataLoader.load(spark, source(csv.toString(), DataFormat.CSV), 5, "targets");
    assertEquals(5, d.classes());
    LocalData local = LocalData.collect(d);
    assertEquals(2, local.size());
    assertTrue(local.ids()[0] >= 0 && local.ids()[0] < local.ids()[1]);
    // ids are a function of content: label 0 row and label 1 row keep theirs on a reload
    assertEquals(DataFixtures.contentById(local), DataFixtures.contentById(
        LocalData.collect(DataLoader.load(spark, source(csv.toString(), DataFormat.CSV), 5, "targets"))));
  }

  @Test
  void featuresColumnMayHoldSpaceSeparatedValues() {
    Path csv = write(dir, "c.csv", """
        id,label,pixels
        0,1,0.5 0.25 1
        1,0,1 2 3
        """);
    LoadedData d = DataLoader.load(spark, DataFixtures.withFeatures(source(csv.toString(), DataFormat.CSV), "pixels"), null, "train");
    assertEquals(3, d.dim());
    assertArrayEquals(new float[] {0.5f, 0.25f, 1f, 1f, 2f, 3f}, LocalData.collect(d).features());
  }

  @Test
  void limitKeepsTheSmallestIds() {
    Path csv = write(dir, "d.csv", """
        id,label,x
        5,0,5
        1,1,1
        9,0,9
        3,1,3
        """);
    LoadedData d = DataLoader.load(spark, DataFixtures.withLimit(source(csv.toString(), DataFormat.CSV), 2), null, "train");
    assertEquals(2, d.count());
    assertArrayEquals(new long[] {1, 3}, LocalData.collect(d).ids());
  }

  @Test
  void canonicalSchemaIsNonNullable() {
    StructType s = Columns.schema(false);
    assertEquals("struct<example_id:bigint,label:int,features:array<float>>", s.simpleString());
    assertTrue(!s.apply(Columns.EXAMPLE_ID).nullable());
  }
}
