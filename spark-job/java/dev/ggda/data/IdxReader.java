package dev.ggda.data;

import dev.ggda.InputException;
import dev.ggda.io.HadoopFiles;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.zip.ZipException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * The IDX format of MNIST and Fashion-MNIST: big-endian header (magic 0x00000803 for uint8 images n
 * x rows x cols, 0x00000801 for uint8 labels n), then raw bytes; gzipped or not. These files are
 * small, so they are read on the driver; the bytes are then cut into chunks, shipped as partitions
 * and decoded on the executors (features = pixel / 255, example_id = position in the file).
 */
final class IdxReader {
  static final int IMAGES_MAGIC = 0x00000803;
  static final int LABELS_MAGIC = 0x00000801;

  /**
   * Images and labels of the first {@code n} examples: pixels row-major n x dim, unsigned bytes.
   */
  record IdxData(int n, int rows, int cols, byte[] pixels, byte[] labels) {
    int dim() {
      return rows * cols;
    }

    int maxLabel() {
      int max = -1;
      for (byte b : labels) max = Math.max(max, b & 0xff);
      return max;
    }
  }

  private IdxReader() {}

  /**
   * "x/train-images-idx3-ubyte.gz" -> "x/train-labels-idx1-ubyte.gz", or null when the name has no
   * "images-idx3".
   */
  static String derivedLabelsPath(String imagesPath) {
    Path p = new Path(imagesPath);
    String name = p.getName();
    if (!name.contains("images-idx3")) return null;
    Path labels = new Path(p.getParent(), name.replace("images-idx3", "labels-idx1"));
    return labels.toString();
  }

  /** Reads at most {@code limit} examples (all when null) and checks the headers agree. */
  static IdxData read(
      SparkSession spark, String imagesPath, String labelsPath, Long limit, Source src) {
    int[] imgHeader;
    byte[] pixels;
    int n;
    try (DataInputStream in =
        new DataInputStream(HadoopFiles.openMaybeGzipped(spark, imagesPath))) {
      int magic = in.readInt();
      if (magic != IMAGES_MAGIC) {
        throw src.error(
            String.format(
                "not an IDX image file: magic 0x%08x, expected 0x%08x (uint8, 3 dimensions); point %s at the *-images-idx3-ubyte[.gz] file",
                magic, IMAGES_MAGIC, src.key("path")));
      }
      imgHeader = new int[] {in.readInt(), in.readInt(), in.readInt()};
      if (imgHeader[0] < 0 || imgHeader[1] < 1 || imgHeader[2] < 1) {
        throw src.error(
            "the IDX header has invalid sizes "
                + imgHeader[0]
                + " x "
                + imgHeader[1]
                + " x "
                + imgHeader[2]
                + "; the file is corrupt, download it again");
      }
      n = limit == null ? imgHeader[0] : (int) Math.min(imgHeader[0], limit);
      long bytes = (long) n * imgHeader[1] * imgHeader[2];
      if (bytes > Integer.MAX_VALUE - 8) {
        throw src.error(
            "the file holds "
                + bytes
                + " pixel bytes, too many to read on the driver; convert it to Parquet or set "
                + src.key("limit"));
      }
      pixels = new byte[(int) bytes];
      in.readFully(pixels);
    } catch (EOFException e) {
      throw truncated(imagesPath, src);
    } catch (ZipException e) {
      throw src.error(
          imagesPath
              + " starts like gzip but is corrupt ("
              + e.getMessage()
              + "); download it again");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + imagesPath, e);
    }

    byte[] labels;
    try (DataInputStream in =
        new DataInputStream(HadoopFiles.openMaybeGzipped(spark, labelsPath))) {
      int magic = in.readInt();
      if (magic != LABELS_MAGIC) {
        throw src.error(
            String.format(
                "%s is not an IDX label file: magic 0x%08x, expected 0x%08x (uint8, 1 dimension); set %s to the *-labels-idx1-ubyte[.gz] file",
                labelsPath, magic, LABELS_MAGIC, src.key("labels_path")));
      }
      int count = in.readInt();
      if (count != imgHeader[0]) {
        throw src.error(
            "the file has "
                + imgHeader[0]
                + " images but "
                + labelsPath
                + " has "
                + count
                + " labels; use the label file that belongs to these images ("
                + src.key("labels_path")
                + ")");
      }
      labels = new byte[n];
      in.readFully(labels);
    } catch (EOFException e) {
      throw truncated(labelsPath, src);
    } catch (ZipException e) {
      throw src.error(
          labelsPath
              + " starts like gzip but is corrupt ("
              + e.getMessage()
              + "); download it again");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + labelsPath, e);
    }
    return new IdxData(n, imgHeader[1], imgHeader[2], pixels, labels);
  }

  private static InputException truncated(String path, Source src) {
    return src.error(
        path
            + " is truncated: it ends before the bytes its IDX header promises; download it again");
  }

  /**
   * The examples as a canonical Dataset in {@code partitions} partitions (positions are the ids).
   * Each partition ships as one byte[] (first id, count, labels, pixels): plain bytes serialize the
   * same under Java and Kryo serializers.
   */
  static Dataset<Row> toDataset(SparkSession spark, IdxData data, int partitions) {
    int dim = data.dim();
    int per = (data.n() + partitions - 1) / Math.max(1, partitions);
    List<byte[]> chunks = new ArrayList<>();
    for (int start = 0; start < data.n(); start += per) {
      int m = Math.min(data.n(), start + per) - start;
      ByteBuffer chunk = ByteBuffer.allocate(8 + 4 + m + m * dim);
      chunk.putLong(start).putInt(m);
      chunk.put(data.labels(), start, m);
      chunk.put(data.pixels(), start * dim, m * dim);
      chunks.add(chunk.array());
    }
    JavaRDD<Row> rows =
        JavaSparkContext.fromSparkContext(spark.sparkContext())
            .parallelize(chunks, Math.max(1, chunks.size()))
            .flatMap(chunk -> decode(chunk, dim));
    return spark.createDataFrame(rows, Columns.schema(false));
  }

  private static Iterator<Row> decode(byte[] chunk, int dim) {
    ByteBuffer buf = ByteBuffer.wrap(chunk);
    long firstId = buf.getLong();
    int m = buf.getInt();
    int labelsAt = buf.position();
    int pixelsAt = labelsAt + m;
    return new Iterator<>() {
      int k = 0;

      @Override
      public boolean hasNext() {
        return k < m;
      }

      @Override
      public Row next() {
        float[] x = new float[dim];
        int off = pixelsAt + k * dim;
        for (int j = 0; j < dim; j++) x[j] = (chunk[off + j] & 0xff) / 255f;
        Row r = RowFactory.create(firstId + k, chunk[labelsAt + k] & 0xff, x);
        k++;
        return r;
      }
    };
  }

  /** One partition per ~8 MB of pixels, and at least the default parallelism. */
  static int defaultPartitions(SparkSession spark, IdxData data) {
    long bySize = ((long) data.pixels().length + (8L << 20) - 1) / (8L << 20);
    long p = Math.max(spark.sparkContext().defaultParallelism(), bySize);
    return (int) Math.max(1, Math.min(p, data.n()));
  }
}
