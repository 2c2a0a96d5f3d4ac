package dev.ggda.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Every file ggda touches goes through Hadoop's FileSystem API, so file://, hdfs://, s3a:// and
 * plain local paths behave the same; the filesystem is picked from the path's scheme and the
 * session's Hadoop configuration.
 */
public final class HadoopFiles {
  private HadoopFiles() {}

  public static Configuration conf(SparkSession spark) {
    return spark.sparkContext().hadoopConfiguration();
  }

  public static FileSystem fileSystem(SparkSession spark, String path) {
    try {
      return new Path(path).getFileSystem(conf(spark));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the filesystem of " + path, e);
    }
  }

  /** The path made absolute with its scheme (file:/..., hdfs://nn/...), for messages and logs. */
  public static String qualify(SparkSession spark, String path) {
    Path p = new Path(path);
    return fileSystem(spark, path).makeQualified(p).toString();
  }

  /**
   * Whether the path names something that exists. Globs count when they match at least one entry,
   * since Spark's file sources accept them too.
   */
  public static boolean exists(SparkSession spark, String path) {
    try {
      FileStatus[] matches = fileSystem(spark, path).globStatus(new Path(path));
      return matches != null && matches.length > 0;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + path, e);
    }
  }

  /**
   * Opens a file for reading, transparently gunzipping it when it starts with the gzip magic 0x1f
   * 0x8b (decided by content, not by the file name, so renamed files still work).
   */
  public static InputStream openMaybeGzipped(SparkSession spark, String path) throws IOException {
    InputStream raw =
        new BufferedInputStream(fileSystem(spark, path).open(new Path(path)), 1 << 16);
    raw.mark(2);
    int b0 = raw.read();
    int b1 = raw.read();
    raw.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
    }
    return raw;
  }

  /** Writes a small text file (metadata, a marker), replacing it. */
  public static void writeString(Path file, String text, Configuration conf) {
    try (OutputStream out = file.getFileSystem(conf).create(file, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  public static String readString(Path file, Configuration conf) {
    try (InputStream in = file.getFileSystem(conf).open(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public static boolean exists(Path p, Configuration conf) {
    try {
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  /** The entries directly under {@code dir} (folders when {@code folders}, else files), sorted. */
  public static List<Path> list(Path dir, boolean folders, Configuration conf) {
    List<Path> out = new ArrayList<>();
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (!fs.exists(dir)) {
        return out;
      }
      for (FileStatus st : fs.listStatus(dir)) {
        if (st.isDirectory() == folders) {
          out.add(st.getPath());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    out.sort(Path::compareTo);
    return out;
  }
}
