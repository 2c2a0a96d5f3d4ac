package dev.ggda.evaluation;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Finished retrainings on disk, one small binary file each (no Java serialization), written to a
 * temporary name and renamed, so a crash never leaves a readable half-result. A resumed evaluation
 * reuses every file whose fingerprint matches its spec.
 */
final class RetrainStore {
  private static final int MAGIC = 0x67676472; // "ggdr"
  private final Path dir;
  private final Configuration conf;

  RetrainStore(String dir, Configuration conf) {
    this.dir = new Path(dir);
    this.conf = conf;
  }

  /**
   * The stored result of this spec, or null when there is none (or it was trained on other rows).
   */
  RetrainResult read(RetrainSpec spec) {
    Path file = new Path(dir, fileName(spec));
    try {
      FileSystem fs = file.getFileSystem(conf);
      if (!fs.exists(file)) {
        return null;
      }
      try (DataInputStream in =
          new DataInputStream(new java.io.BufferedInputStream(fs.open(file)))) {
        if (in.readInt() != MAGIC || in.readLong() != spec.fingerprint()) {
          return null;
        }
        String id = in.readUTF();
        long seed = in.readLong();
        double accuracy = in.readDouble();
        double meanLoss = in.readDouble();
        float[] margins = floats(in);
        float[] losses = floats(in);
        return new RetrainResult(id, seed, margins, losses, accuracy, meanLoss);
      }
    } catch (IOException e) {
      return null; // unreadable: train again
    }
  }

  void write(RetrainSpec spec, RetrainResult r) {
    Path file = new Path(dir, fileName(spec));
    Path tmp = new Path(dir, "." + fileName(spec) + ".tmp");
    try {
      FileSystem fs = file.getFileSystem(conf);
      try (DataOutputStream out =
          new DataOutputStream(new java.io.BufferedOutputStream(fs.create(tmp, true)))) {
        out.writeInt(MAGIC);
        out.writeLong(spec.fingerprint());
        out.writeUTF(r.id());
        out.writeLong(r.seed());
        out.writeDouble(r.accuracy());
        out.writeDouble(r.meanLoss());
        writeFloats(out, r.margins());
        writeFloats(out, r.losses());
      }
      fs.delete(file, false);
      if (!fs.rename(tmp, file)) {
        throw new IOException("rename " + tmp + " -> " + file + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store retraining " + spec.id() + " under " + dir, e);
    }
  }

  /**
   * Named by what was trained as well as by the id: the same id with other rows or another seed is
   * another file.
   */
  private static String fileName(RetrainSpec spec) {
    return spec.id() + "-" + Long.toHexString(spec.fingerprint()) + ".bin";
  }

  private static float[] floats(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 100_000_000) {
      throw new IOException("bad length " + n);
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = in.readFloat();
    }
    return v;
  }

  private static void writeFloats(DataOutputStream out, float[] v) throws IOException {
    out.writeInt(v.length);
    for (float f : v) {
      out.writeFloat(f);
    }
  }
}
