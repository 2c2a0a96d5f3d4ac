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
    Path csv =
        write(
            dir,
            "a.csv",
            """
        x1,id,label,source,x2,note
        0.5,10,1,web,-2,hello
        1.5,3,0,book,4.25,world
        2,7,2,web,0,x
        """);
    LoadedData d =
        DataLoader.load(
            spark,
            DataFixtures.withGroup(source(csv.toString(), DataFormat.CSV), "source"),
            null,
            "train");
    assertEquals(3, d.count());
    assertEquals(2, d.dim());
    assertEquals(3, d.classes());
    assertEquals(Columns.schema(true), d.examples().schema());

    LocalData local = LocalData.collect(d);
    assertArrayEquals(new long[] {3, 7, 10}, local.ids());
    assertArrayEquals(new int[] {0, 2, 1}, local.labels());
    assertArrayEquals(new float[] {1.5f, 4.25f, 2f, 0f, 0.5f, -2f}, local.features());
    List<Row> groups =
        d.examples().orderBy(Columns.EXAMPLE_ID).select(Columns.GROUP).collectAsList();
    assertEquals(List.of("book", "web", "web"), groups.stream().map(r -> r.getString(0)).toList());
  }

  @Test
  void derivesIdsWhenThereIsNoIdColumnAndHonoursConfiguredClasses() {
    Path csv =
        write(
            dir,
            "b.csv",
            """
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
    assertEquals(
        DataFixtures.contentById(local),
        DataFixtures.contentById(
            LocalData.collect(
                DataLoader.load(spark, source(csv.toString(), DataFormat.CSV), 5, "targets"))));
  }

  @Test
  void featuresColumnMayHoldSpaceSeparatedValues() {
    Path csv =
        write(
            dir,
            "c.csv",
            """
        id,label,pixels
        0,1,0.5 0.25 1
        1,0,1 2 3
        """);
    LoadedData d =
        DataLoader.load(
            spark,
            DataFixtures.withFeatures(source(csv.toString(), DataFormat.CSV), "pixels"),
            null,
            "train");
    assertEquals(3, d.dim());
    assertArrayEquals(new float[] {0.5f, 0.25f, 1f, 1f, 2f, 3f}, LocalData.collect(d).features());
  }

  @Test
  void limitKeepsTheSmallestIds() {
    Path csv =
        write(
            dir,
            "d.csv",
            """
        id,label,x
        5,0,5
        1,1,1
        9,0,9
        3,1,3
        """);
    LoadedData d =
        DataLoader.load(
            spark,
            DataFixtures.withLimit(source(csv.toString(), DataFormat.CSV), 2),
            null,
            "train");
    assertEquals(2, d.count());
    assertArrayEquals(new long[] {1, 3}, LocalData.collect(d).ids());
  }

  /**
   * Twelve feature columns; f11 of the row with id {@code badId} holds {@code cell} instead of a
   * number.
   */
  static String twelveFeatures(int rows, int badId, String cell) {
    StringBuilder sb = new StringBuilder("id,label");
    for (int f = 0; f < 12; f++) {
      sb.append(",f").append(f);
    }
    sb.append(",note\n");
    for (int i = 0; i < rows; i++) {
      sb.append(i).append(',').append(i % 3);
      for (int f = 0; f < 12; f++) {
        sb.append(',').append(f == 11 && i == badId ? cell : String.valueOf(0.25 * (i + f)));
      }
      sb.append(",n").append(i).append('\n');
    }
    return sb.toString();
  }

  @Test
  void aStrayTextCellInAFeatureColumnIsAnErrorNamingColumnLineAndValue() {
    Path csv = write(dir, "stray.csv", twelveFeatures(20, 6, "abc"));
    DataFixtures.assertInputError(
        () -> DataLoader.load(spark, source(csv.toString(), DataFormat.CSV), null, "train"),
        "data.train",
        "feature column 'f11'",
        "\"abc\"",
        "line 8 of ",
        "stray.csv",
        "not a number");
    // Hostile cells are shown as they are, quoted, with control characters escaped: the error is
    // one line.
    Path hostile = write(dir, "hostile.csv", twelveFeatures(20, 3, "<script>x\u0007é'y"));
    var e =
        DataFixtures.assertInputError(
            () -> DataLoader.load(spark, source(hostile.toString(), DataFormat.CSV), null, "train"),
            "feature column 'f11'",
            "\"<script>x\\u0007é'y\"",
            "line 5 of ");
    assertEquals(1, e.getMessage().lines().count());
  }

  @Test
  void everyUnusedColumnIsListedWithWhy() {
    Path csv =
        write(
            dir,
            "notes.csv",
            """
        id,label,a,when,b,comment,code
        1,0,0.5,2024-01-02,1,hello,7
        2,1,1.5,2024-01-03,2,world,x1
        3,0,2.5,2024-01-04,3,again,x2
        """);
    List<String> notes = new java.util.ArrayList<>();
    LoadedData d =
        DataLoader.load(
            spark, source(csv.toString(), DataFormat.CSV), null, "train", null, notes::add);
    assertEquals(2, d.dim());
    assertEquals(
        List.of(
            "data.train: the features are 2 numeric columns: a, b",
            "data.train: columns not used: 'when' (type date), 'comment' (text), 'code' (text: 1 of 3 cells are numbers)"),
        notes);
  }

  @Test
  void theRunLogListsTheUnusedColumns() {
    Path train = write(dir, "train-note.csv", twelveFeatures(30, -1, "0"));
    StringBuilder console = new StringBuilder();
    int code =
        dev.ggda.testing.CliCapture.run(
            "validate",
            List.of(
                "data.train.path=" + train,
                "data.train.format=csv",
                "data.targets.path=" + train,
                "data.targets.format=csv"),
            console);
    assertEquals(0, code, console::toString);
    assertTrue(
        console.toString().contains("ggda: load: data.train: columns not used: 'note' (text)"),
        console::toString);
    assertTrue(
        console
            .toString()
            .contains(
                "ggda: load: data.train: the features are 12 numeric columns: f0, f1, f2, f3, f4,"
                    + " f5, f6, f7, f8, f9, f10, f11"),
        console::toString);
    assertEquals(
        "a, b, c, d, e, ..., p, q",
        DataLoader.abbreviated(
            List.of(
                "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
                "q")));
  }

  @Test
  void canonicalSchemaIsNonNullable() {
    StructType s = Columns.schema(false);
    assertEquals("struct<example_id:bigint,label:int,features:array<float>>", s.simpleString());
    assertTrue(!s.apply(Columns.EXAMPLE_ID).nullable());
  }
}
