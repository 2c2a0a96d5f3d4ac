package dev.ggda.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * One version of one input file (path, length, modification time, as Hadoop reports them): what the
 * incremental store records work under, so a rewritten file is new work and its old records are
 * never read again.
 */
public record FileVersion(String file, long length, long modified) {
  /** The file as it is now. */
  public static FileVersion of(String file, Configuration conf) {
    try {
      Path p = new Path(file);
      FileStatus st = p.getFileSystem(conf).getFileStatus(p);
      return new FileVersion(file, st.getLen(), st.getModificationTime());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the status of input file " + file, e);
    }
  }

  /** A short name for this version. */
  public String id() {
    return shortHash(file + "\n" + length + "\n" + modified);
  }

  /** 16 hex digits of SHA-256: names that stay short and collide with negligible chance. */
  public static String shortHash(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
