package dev.ggda.featurize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.io.FileVersion;
import dev.ggda.io.HadoopFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
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
      return new FileVersion(file, length, modified).id();
    }
  }

  private final Path root;
  private final String key;
  private final Configuration conf;

  FeatureStore(String store, String keyJson, Configuration conf) {
    this.root = new Path(store);
    this.key = FileVersion.shortHash(keyJson);
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
        new Path(new Path(root, key), "parts"), p -> FeatureCheckpoint.exists(p.toString(), conf));
  }

  /** Keys other than this one that hold features (another model or other settings). */
  List<String> otherKeys() {
    return folders(
        root, p -> !p.getName().equals(key) && HadoopFiles.exists(new Path(p, "key.json"), conf));
  }

  /** Records the part's source; the checkpoint written after it makes the part complete. */
  void writeSource(Source s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("file", s.file()).put("length", s.length()).put("modified", s.modified());
    n.put("rows", s.rows());
    writeJson(new Path(partDir(s), "source.json"), n.toPrettyString(), conf);
  }

  /** The file, length and modification time of an input file, as Hadoop reports them now. */
  static Source describe(String file, long rows, Configuration conf) {
    FileVersion v = FileVersion.of(file, conf);
    return new Source(file, v.length(), v.modified(), rows);
  }

  /** The names of the folders under {@code dir} that {@code keep} accepts, sorted. */
  private List<String> folders(Path dir, java.util.function.Predicate<Path> keep) {
    return HadoopFiles.list(dir, true, conf).stream().filter(keep).map(Path::getName).toList();
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
    HadoopFiles.writeString(file, json, conf);
  }

  static JsonNode read(Path file, Configuration conf) {
    try {
      return JSON.readTree(HadoopFiles.readString(file, conf));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
