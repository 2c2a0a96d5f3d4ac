package dev.ggda.data;

import static dev.ggda.data.DataFixtures.assertInputError;
import static dev.ggda.data.DataFixtures.source;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import dev.ggda.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  /** Writes n images of rows x cols with pixel (i, j) = (7 * i + j) % 256, and labels i % 3. */
  static void writeIdx(
      Path images, Path labels, int n, int rows, int cols, int labelCount, boolean gzip)
      throws IOException {
    ByteArrayOutputStream img = new ByteArrayOutputStream();
    DataOutputStream io = new DataOutputStream(img);
    io.writeInt(IdxReader.IMAGES_MAGIC);
    io.writeInt(n);
    io.writeInt(rows);
    io.writeInt(cols);
    for (int i = 0; i < n; i++)
      for (int j = 0; j < rows * cols; j++) io.writeByte((7 * i + j) % 256);
    ByteArrayOutputStream lab = new ByteArrayOutputStream();
    DataOutputStream lo = new DataOutputStream(lab);
    lo.writeInt(IdxReader.LABELS_MAGIC);
    lo.writeInt(labelCount);
    for (int i = 0; i < labelCount; i++) lo.writeByte(i % 3);
    writeBytes(images, img.toByteArray(), gzip);
    writeBytes(labels, lab.toByteArray(), gzip);
  }

  private static void writeBytes(Path p, byte[] bytes, boolean gzip) throws IOException {
    try (OutputStream out =
        gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
      out.write(bytes);
    }
  }

  private void checkSmallIdx(boolean gzip) throws IOException {
    // names without ".gz" even when gzipped: detection goes by the magic bytes
    Path images = dir.resolve("small-images-idx3-ubyte");
    writeIdx(images, dir.resolve("small-labels-idx1-ubyte"), 10, 2, 3, 10, gzip);
    LoadedData d = DataLoader.load(spark, source(images.toString(), DataFormat.IDX), null, "train");
    assertEquals(10, d.count());
    assertEquals(6, d.dim());
    assertEquals(3, d.classes());
    assertTrue(
        d.examples().rdd().getNumPartitions() > 1, "IDX data should be spread over partitions");
    LocalData local = LocalData.collect(d);
    assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, local.ids());
    assertEquals(2, local.labels()[5]);
    assertArrayEquals(
        new float[] {35 / 255f, 36 / 255f, 37 / 255f, 38 / 255f, 39 / 255f, 40 / 255f},
        local.row(5));
  }

  @Test
  void readsPlainIdx() throws IOException {
    checkSmallIdx(false);
  }

  @Test
  void readsGzippedIdx() throws IOException {
    checkSmallIdx(true);
  }

  @Test
  void explicitLabelsPathAndLimit() throws IOException {
    Path images = dir.resolve("imgs.bin");
    Path labels = dir.resolve("labs.bin");
    writeIdx(images, labels, 10, 2, 2, 10, true);
    DataSource s =
        DataFixtures.withLimit(
            DataFixtures.withLabelsPath(
                source(images.toString(), DataFormat.IDX), labels.toString()),
            4);
    LoadedData d = DataLoader.load(spark, s, 5, "targets");
    assertEquals(4, d.count());
    assertEquals(5, d.classes());
    assertArrayEquals(new long[] {0, 1, 2, 3}, LocalData.collect(d).ids());
  }

  @Test
  void derivesTheLabelsFileName() {
    assertEquals(
        "/d/t10k-labels-idx1-ubyte.gz",
        IdxReader.derivedLabelsPath("/d/t10k-images-idx3-ubyte.gz"));
    assertEquals(null, IdxReader.derivedLabelsPath("/d/images.bin"));
  }

  @Test
  void rejectsCountMismatchBadMagicAndTruncation() throws IOException {
    Path images = dir.resolve("m-images-idx3-ubyte");
    writeIdx(images, dir.resolve("m-labels-idx1-ubyte"), 5, 2, 2, 4, false);
    assertInputError(
        () -> DataLoader.load(spark, source(images.toString(), DataFormat.IDX), null, "train"),
        "data.train",
        "5 images",
        "4 labels",
        "m-labels-idx1-ubyte");

    Path swapped = dir.resolve("s-images-idx3-ubyte");
    writeIdx(dir.resolve("s-labels-idx1-ubyte"), swapped, 5, 2, 2, 5, false);
    assertInputError(
        () -> DataLoader.load(spark, source(swapped.toString(), DataFormat.IDX), null, "train"),
        "not an IDX image file",
        "0x00000801",
        "data.train.path");

    Path cut = dir.resolve("c-images-idx3-ubyte");
    writeIdx(cut, dir.resolve("c-labels-idx1-ubyte"), 5, 2, 2, 5, false);
    byte[] all = Files.readAllBytes(cut);
    Files.write(cut, java.util.Arrays.copyOf(all, all.length - 3));
    assertInputError(
        () -> DataLoader.load(spark, source(cut.toString(), DataFormat.IDX), null, "train"),
        "truncated",
        "c-images-idx3-ubyte");

    assertInputError(
        () ->
            DataLoader.load(
                spark,
                source(dir.resolve("nope-images-idx3-ubyte").toString(), DataFormat.IDX),
                null,
                "train"),
        "data.train.path: no such file or directory",
        "nope-images-idx3-ubyte");
    Path lonely = dir.resolve("l-images-idx3-ubyte");
    writeIdx(lonely, dir.resolve("other.bin"), 5, 2, 2, 5, false);
    assertInputError(
        () -> DataLoader.load(spark, source(lonely.toString(), DataFormat.IDX), null, "train"),
        "data.train.labels_path: no such file or directory",
        "l-labels-idx1-ubyte");
  }

  @Test
  void fashionMnistTestSet() {
    Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
    assumeTrue(Files.exists(images), "Fashion-MNIST not installed");
    LoadedData d =
        DataLoader.load(spark, source(images.toString(), DataFormat.IDX), null, "targets");
    assertEquals(10000, d.count());
    assertEquals(784, d.dim());
    assertEquals(10, d.classes());
    LocalData local = LocalData.collect(d);
    assertEquals(9, local.labels()[0]); // ankle boot
    int[] perClass = new int[10];
    for (int l : local.labels()) perClass[l]++;
    for (int c = 0; c < 10; c++)
      assertEquals(1000, perClass[c], "t10k holds 1000 images per class");
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : local.features()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(0f, min);
    assertEquals(1f, max);
  }

  @Test
  void fashionMnistTrainSetFirstExampleOnTheDriver() {
    Path images = FASHION.resolve("train-images-idx3-ubyte.gz");
    assumeTrue(Files.exists(images), "Fashion-MNIST not installed");
    Source src = new Source("train", images.toString());
    IdxReader.IdxData d =
        IdxReader.read(
            spark, images.toString(), IdxReader.derivedLabelsPath(images.toString()), 1L, src);
    assertEquals(1, d.n());
    assertEquals(28, d.rows());
    assertEquals(9, d.labels()[0]);
  }
}
