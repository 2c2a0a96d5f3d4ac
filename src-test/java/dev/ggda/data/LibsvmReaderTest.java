package dev.ggda.data;

import static dev.ggda.data.DataFixtures.assertInputError;
import static dev.ggda.data.DataFixtures.source;
import static dev.ggda.data.DataFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.DataFormat;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibsvmReaderTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  @Test
  void readsSparseRowsDenselyWithZeroBasedClasses() {
    Path f =
        write(
            dir,
            "a.libsvm",
            """
        2 1:0.5 4:1.0
        0 2:-1
        1 3:2.5
        """);
    LoadedData d = DataLoader.load(spark, source(f.toString(), DataFormat.LIBSVM), null, "train");
    assertEquals(4, d.dim());
    assertEquals(3, d.classes());
    LocalData local = LocalData.collect(d);
    // ids are content hashes; order the rows by label to compare
    float[][] byLabel = new float[3][];
    for (int r = 0; r < 3; r++) byLabel[local.labels()[r]] = local.row(r);
    assertArrayEquals(new float[] {0.5f, 0, 0, 1f}, byLabel[2]);
    assertArrayEquals(new float[] {0, -1f, 0, 0}, byLabel[0]);
    assertArrayEquals(new float[] {0, 0, 2.5f, 0}, byLabel[1]);
  }

  @Test
  void targetsAreReadAtTheTrainingWidth() {
    Path f = write(dir, "t.libsvm", "1 1:1\n0 2:1\n");
    LoadedData d = DataLoader.load(spark, source(f.toString(), DataFormat.LIBSVM), 3, "targets", 5);
    assertEquals(5, d.dim());
    assertInputError(
        () -> DataLoader.load(spark, source(f.toString(), DataFormat.LIBSVM), 3, "targets", 1),
        "data.targets",
        "2 features but 1");
  }

  @Test
  void negativeLabelsAreRejected() {
    Path f = write(dir, "neg.libsvm", "1 1:1\n-1 2:1\n");
    assertInputError(
        () -> DataLoader.load(spark, source(f.toString(), DataFormat.LIBSVM), null, "train"),
        "label column 'label'",
        "-1",
        "example_id",
        "neg.libsvm");
  }
}
