package dev.ggda.featurize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The incremental feature store on disk (any Hadoop path):
 *
 * <pre>
 * STORE/KEY/key.json                 what the key stands for (model fingerprint, projection, method)
 * STORE/KEY/parts/PART/source.json   the input file (path, length, modification time, rows)
 * STORE/KEY/parts/PART/keys/         (group_id, group_key) of the ids the part's rows carry
 * STORE/KEY/parts/PART/...           the file's featurized groups, as a {@link FeatureCheckpoint}
 * </pre>
 *
 * KEY and PART are hashes: a part stands for one version of one file (path, length and modification
 * time), so a rewritten file is a new part and its old one is never read again. A part counts only
 * once its checkpoint's {@code _DONE} exists, so a run that dies while writing one leaves nothing
 * that a later run would use.
 */
final class FeatureStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One version of one input file of the training table. */
  record Source(String file, long length, long modified, long rows) {
    String partId() {
      return hash(file + "\n" + length + "\n" + modified);
    }
  }

  private final Path root;
  private final String key;
  private final Configuration conf;

  FeatureStore(String store, String keyJson, Configuration conf) {
    this.root = new Path(store);
    this.key = hash(keyJson);
    this.conf = conf;
    writeKey(keyJson);
  }

  String key() {
    return key;
  }

  String partDir(Source s) {
    return new Path(new Path(new Path(root, key), "parts"), s.partId()).toString();
  }

  boolean has(Source s) {
    return FeatureCheckpoint.exists(partDir(s), conf);
  }

  /** Parts complete under this key, by part id. */
  List<String> storedParts() {
    return folders(
        new Path(new Path(root, key), "parts"),
        st -> FeatureCheckpoint.exists(st.getPath().toString(), conf));
  }

  /** Keys other than this one that hold features (another model or other settings). */
  List<String> otherKeys() {
    return folders(
        root, st -> !st.getPath().getName().equals(key) && !st.getPath().getName().startsWith("."));
  }

  /** Records the part's source; the checkpoint written after it makes the part complete. */
  void writeSource(Source s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("file", s.file()).put("length", s.length()).put("modified", s.modified());
    n.put("rows", s.rows());
    writeJson(new Path(partDir(s), "source.json"), n.toPrettyString(), conf);
  }

  /** The file, length and modification time of every input file, as Hadoop reports them now. */
  static Source describe(String file, long rows, Configuration conf) {
    try {
      Path p = new Path(file);
      FileStatus st = p.getFileSystem(conf).getFileStatus(p);
      return new Source(file, st.getLen(), st.getModificationTime(), rows);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the status of input file " + file, e);
    }
  }

  /**
   * The names of the folders under {@code dir} that {@code keep} accepts, sorted; none if absent.
   */
  private List<String> folders(Path dir, java.util.function.Predicate<FileStatus> keep) {
    List<String> out = new ArrayList<>();
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (!fs.exists(dir)) {
        return out;
      }
      for (FileStatus st : fs.listStatus(dir)) {
        if (st.isDirectory() && keep.test(st)) {
          out.add(st.getPath().getName());
        }
      }
      out.sort(String::compareTo);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  private void writeKey(String keyJson) {
    Path file = new Path(new Path(root, key), "key.json");
    try {
      FileSystem fs = file.getFileSystem(conf);
      if (!fs.exists(file)) {
        writeJson(file, JSON.readTree(keyJson).toPrettyString(), conf);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Writes a small JSON document (a part's metadata). */
  static void writeJson(Path file, String json, Configuration conf) {
    try (OutputStream out = file.getFileSystem(conf).create(file, true)) {
      out.write(json.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static JsonNode read(Path file, Configuration conf) {
    try (InputStream in = file.getFileSystem(conf).open(file)) {
      return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** 16 hex digits of SHA-256: names that stay short and collide with negligible chance. */
  static String hash(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
