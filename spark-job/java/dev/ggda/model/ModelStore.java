package dev.ggda.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.io.Npy;
import dev.ggda.io.NpyArray;
import dev.ggda.math.Architecture;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * ggda's own model format (DESIGN section 6, {@code model/}):
 *
 * <pre>
 * model.json                              index: format, architecture, l2, members and their checkpoints
 * member-{m}/checkpoint-{t}/model.json    architecture, l2, member, checkpoint, step, epoch, learning_rate
 * member-{m}/checkpoint-{t}/W{l}.npy      float32 (in_l, out_l), C order: x @ W + b
 * member-{m}/checkpoint-{t}/b{l}.npy      float32 (out_l,)
 * </pre>
 *
 * Plain JSON and .npy so that NumPy/PyTorch users can read a model without ggda. {@link #load}
 * accepts the root or any single checkpoint folder (e.g. one exported by hand from NumPy; float64
 * arrays are accepted and rounded to float32). Every problem with a file is an {@link
 * InputException} naming the file and what was expected.
 */
public final class ModelStore {
  public static final String FORMAT = "ggda-model";
  public static final int FORMAT_VERSION = 1;
  public static final String MODEL_JSON = "model.json";

  private static final String KIND_INDEX = "index";
  private static final String KIND_CHECKPOINT = "checkpoint";

  /** A model.json is a few hundred bytes; refuse to slurp something huge by mistake. */
  private static final int MAX_JSON_BYTES = 16 << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelStore() {}

  /** Relative folder of one checkpoint under the model root. */
  public static String checkpointDir(int member, int checkpoint) {
    return "member-" + member + "/checkpoint-" + checkpoint;
  }

  /**
   * Writes {@code model} under {@code dir} (created if needed; files there are overwritten). The
   * root index is written last, so a root without model.json is an incomplete save; folders of an
   * earlier, larger save into the same dir are left alone and ignored by {@link #load}, which
   * follows the index.
   */
  public static void save(TrainedModel model, String dir, Configuration hadoopConf) {
    Architecture arch = model.architecture();
    Path root = new Path(dir);
    try {
      FileSystem fs = root.getFileSystem(hadoopConf);
      ArrayNode membersNode = JSON.createArrayNode();
      for (int m = 0; m < model.memberCount(); m++) {
        List<Checkpoint> cps = model.members().get(m);
        ArrayNode cpIndices = JSON.createArrayNode();
        for (int t = 0; t < cps.size(); t++) {
          Checkpoint cp = cps.get(t);
          if (cp.member() != m || cp.index() != t) {
            throw new IllegalArgumentException(
                "checkpoint at member "
                    + m
                    + " position "
                    + t
                    + " says member "
                    + cp.member()
                    + " index "
                    + cp.index());
          }
          if (cp.params().length != arch.paramCount()) {
            throw new IllegalArgumentException(
                "checkpoint "
                    + m
                    + "/"
                    + t
                    + " has "
                    + cp.params().length
                    + " parameters, "
                    + arch
                    + " needs "
                    + arch.paramCount());
          }
          writeCheckpoint(fs, new Path(root, checkpointDir(m, t)), arch, model.l2(), cp);
          cpIndices.add(t);
        }
        membersNode.addObject().put("member", m).set("checkpoints", cpIndices);
      }
      ObjectNode index = header(KIND_INDEX, arch, model.l2());
      index.set("members", membersNode);
      writeJson(fs, new Path(root, MODEL_JSON), index);
    } catch (IOException e) {
      throw new UncheckedIOException("writing model to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** True when {@code dir} holds a ggda model.json (root or checkpoint); false otherwise. */
  public static boolean isGgdaModel(String dir, Configuration hadoopConf) {
    Path json = new Path(dir, MODEL_JSON);
    try {
      FileSystem fs = json.getFileSystem(hadoopConf);
      if (!fs.isFile(json)) {
        return false;
      }
      return FORMAT.equals(readJson(fs, json).path("format").asText(null));
    } catch (IOException | InputException e) {
      return false;
    }
  }

  /**
   * Loads a model saved by {@link #save}, or a single checkpoint folder (then: one member with one
   * checkpoint, renumbered member 0 / checkpoint 0, step, epoch and learning rate kept).
   */
  public static TrainedModel load(String dir, Configuration hadoopConf) {
    Path root = new Path(dir);
    Path json = new Path(root, MODEL_JSON);
    try {
      FileSystem fs = root.getFileSystem(hadoopConf);
      if (!fs.exists(json)) {
        throw new InputException(
            "model.load: "
                + json
                + " not found; expected the model/ folder written by ggda"
                + " (root with model.json and member-*/checkpoint-*/) or one checkpoint folder (model.json + W*.npy, b*.npy)");
      }
      JsonNode node = readJson(fs, json);
      String kind = checkHeader(node, json);
      Architecture arch = architecture(node, json);
      double l2 = requireDouble(node, "l2", json);
      if (KIND_CHECKPOINT.equals(kind)) {
        Checkpoint cp = readCheckpoint(fs, root, node, arch, l2, json);
        return new TrainedModel(
            arch,
            l2,
            List.of(
                List.of(
                    new Checkpoint(0, 0, cp.step(), cp.epoch(), cp.learningRate(), cp.params()))));
      }
      return readIndexed(fs, root, node, arch, l2, json);
    } catch (IOException e) {
      throw new UncheckedIOException("reading model from " + dir + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- writing

  private static void writeCheckpoint(
      FileSystem fs, Path dir, Architecture arch, double l2, Checkpoint cp) throws IOException {
    fs.mkdirs(dir);
    float[] p = cp.params();
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      // The flat layout already stores W_l row-major (in x out): a slice is the C-order array.
      int w = (int) arch.weightOffset(l);
      int b = (int) arch.biasOffset(l);
      Npy.write(
          fs,
          new Path(dir, "W" + l + ".npy"),
          NpyArray.ofFloats(Arrays.copyOfRange(p, w, b), in, out));
      Npy.write(
          fs,
          new Path(dir, "b" + l + ".npy"),
          NpyArray.ofFloats(Arrays.copyOfRange(p, b, b + out), out));
    }
    ObjectNode node = header(KIND_CHECKPOINT, arch, l2);
    node.put("member", cp.member());
    node.put("checkpoint", cp.index());
    node.put("step", cp.step());
    node.put("epoch", cp.epoch());
    node.put("learning_rate", cp.learningRate());
    node.put("dtype", "float32");
    ArrayNode arrays = node.putArray("arrays");
    for (int l = 0; l < arch.layers(); l++) {
      arrays.add("W" + l + ".npy");
      arrays.add("b" + l + ".npy");
    }
    writeJson(fs, new Path(dir, MODEL_JSON), node);
  }

  private static ObjectNode header(String kind, Architecture arch, double l2) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("format_version", FORMAT_VERSION);
    node.put("kind", kind);
    ObjectNode a = node.putObject("architecture");
    a.put("input_dim", arch.inputDim());
    ArrayNode hidden = a.putArray("hidden");
    for (int h : arch.hidden()) {
      hidden.add(h);
    }
    a.put("classes", arch.classes());
    a.put("activation", arch.activation().name().toLowerCase(Locale.ROOT));
    node.put("l2", l2);
    return node;
  }

  private static void writeJson(FileSystem fs, Path path, JsonNode node) throws IOException {
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
    try (OutputStream out = fs.create(path, true)) {
      out.write(bytes);
      out.write('\n');
    }
  }

  // ---------------------------------------------------------------- reading

  private static TrainedModel readIndexed(
      FileSystem fs, Path root, JsonNode index, Architecture arch, double l2, Path json)
      throws IOException {
    JsonNode members = index.get("members");
    if (members == null || !members.isArray() || members.isEmpty()) {
      throw new InputException(
          json + ": 'members' must be a non-empty list of {member, checkpoints}");
    }
    List<List<Checkpoint>> out = new ArrayList<>();
    for (int m = 0; m < members.size(); m++) {
      JsonNode mNode = members.get(m);
      if (requireInt(mNode, "member", json) != m) {
        throw new InputException(
            json + ": members[" + m + "].member must be " + m + " (members are listed in order)");
      }
      JsonNode cps = mNode.get("checkpoints");
      if (cps == null || !cps.isArray() || cps.isEmpty()) {
        throw new InputException(
            json + ": members[" + m + "].checkpoints must be a non-empty list of indices");
      }
      List<Checkpoint> list = new ArrayList<>();
      for (int t = 0; t < cps.size(); t++) {
        if (!cps.get(t).isIntegralNumber() || cps.get(t).asInt() != t) {
          throw new InputException(
              json + ": members[" + m + "].checkpoints must be 0, 1, ..., got " + cps);
        }
        Path dir = new Path(root, checkpointDir(m, t));
        Path cpJson = new Path(dir, MODEL_JSON);
        if (!fs.exists(cpJson)) {
          throw new InputException(
              "model.load: "
                  + cpJson
                  + " not found; the index "
                  + json
                  + " lists member "
                  + m
                  + " checkpoint "
                  + t);
        }
        JsonNode node = readJson(fs, cpJson);
        if (!KIND_CHECKPOINT.equals(checkHeader(node, cpJson))) {
          throw new InputException(cpJson + ": 'kind' must be \"checkpoint\"");
        }
        Architecture cpArch = architecture(node, cpJson);
        if (!cpArch.equals(arch)) {
          throw new InputException(
              cpJson + ": architecture " + cpArch + " differs from " + arch + " in " + json);
        }
        Checkpoint cp = readCheckpoint(fs, dir, node, arch, l2, cpJson);
        if (cp.member() != m || cp.index() != t) {
          throw new InputException(
              cpJson
                  + ": says member "
                  + cp.member()
                  + " checkpoint "
                  + cp.index()
                  + " but sits in "
                  + checkpointDir(m, t));
        }
        list.add(cp);
      }
      out.add(list);
    }
    return new TrainedModel(arch, l2, out);
  }

  private static Checkpoint readCheckpoint(
      FileSystem fs, Path dir, JsonNode node, Architecture arch, double l2, Path json)
      throws IOException {
    double cpL2 = requireDouble(node, "l2", json);
    if (Double.compare(cpL2, l2) != 0) {
      throw new InputException(json + ": l2 " + cpL2 + " differs from the model's " + l2);
    }
    int member = requireInt(node, "member", json);
    int index = requireInt(node, "checkpoint", json);
    long step = requireLong(node, "step", json);
    int epoch = requireInt(node, "epoch", json);
    double lr = requireDouble(node, "learning_rate", json);
    if (member < 0 || index < 0 || step < 0 || epoch < 0 || !(lr >= 0) || Double.isInfinite(lr)) {
      throw new InputException(
          json + ": member, checkpoint, step, epoch must be >= 0 and learning_rate finite >= 0");
    }
    float[] params = new float[Math.toIntExact(arch.paramCount())];
    for (int l = 0; l < arch.layers(); l++) {
      int in = arch.layerIn(l);
      int out = arch.layerOut(l);
      readInto(
          fs,
          new Path(dir, "W" + l + ".npy"),
          new long[] {in, out},
          params,
          (int) arch.weightOffset(l),
          arch,
          l);
      readInto(
          fs,
          new Path(dir, "b" + l + ".npy"),
          new long[] {out},
          params,
          (int) arch.biasOffset(l),
          arch,
          l);
    }
    return new Checkpoint(member, index, step, epoch, lr, params);
  }

  private static void readInto(
      FileSystem fs,
      Path file,
      long[] shape,
      float[] params,
      int offset,
      Architecture arch,
      int layer)
      throws IOException {
    if (!fs.exists(file)) {
      throw new InputException(
          "model.load: "
              + file
              + " is missing; layer "
              + layer
              + " of "
              + arch
              + " needs it with shape "
              + NpyArray.shapeString(shape));
    }
    NpyArray a = Npy.read(fs, file);
    if (!a.hasShape(shape)) {
      throw new InputException(
          "model.load: "
              + file
              + " has shape "
              + NpyArray.shapeString(a.shape())
              + ", expected "
              + NpyArray.shapeString(shape)
              + " for layer "
              + layer
              + " of "
              + arch);
    }
    float[] v = a.toFloats();
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new InputException(
            "model.load: "
                + file
                + " holds a non-finite value ("
                + v[i]
                + ") at flat index "
                + i
                + " (or is out of float32 range); the model is unusable");
      }
    }
    System.arraycopy(v, 0, params, offset, v.length);
  }

  private static JsonNode readJson(FileSystem fs, Path path) throws IOException {
    byte[] bytes;
    try (InputStream in = fs.open(path)) {
      bytes = in.readNBytes(MAX_JSON_BYTES + 1);
    } catch (FileNotFoundException e) {
      throw new InputException("model.load: " + path + " not found");
    } catch (ChecksumException e) {
      throw new InputException(
          path
              + ": checksum mismatch ("
              + e.getMessage()
              + "); the file is corrupt or was"
              + " changed after it was written (if on purpose, delete its .crc file)");
    }
    if (bytes.length > MAX_JSON_BYTES) {
      throw new InputException(
          path + ": larger than " + MAX_JSON_BYTES + " bytes; not a ggda model.json");
    }
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw new InputException(path + ": expected a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new InputException(path + ": not valid JSON (" + e.getOriginalMessage() + ")");
    }
  }

  /** Checks format and version; returns the kind. */
  private static String checkHeader(JsonNode node, Path json) {
    String format = node.path("format").asText(null);
    if (!FORMAT.equals(format)) {
      throw new InputException(
          json + ": 'format' is " + node.get("format") + ", expected \"" + FORMAT + "\"");
    }
    int version = requireInt(node, "format_version", json);
    if (version != FORMAT_VERSION) {
      throw new InputException(
          json
              + ": format_version "
              + version
              + " is not supported; this ggda reads version "
              + FORMAT_VERSION
              + " (a newer ggda wrote it?)");
    }
    String kind = node.path("kind").asText("");
    if (!KIND_INDEX.equals(kind) && !KIND_CHECKPOINT.equals(kind)) {
      throw new InputException(
          json + ": 'kind' must be \"index\" or \"checkpoint\", got " + node.get("kind"));
    }
    return kind;
  }

  private static Architecture architecture(JsonNode node, Path json) {
    JsonNode a = node.get("architecture");
    if (a == null || !a.isObject()) {
      throw new InputException(
          json + ": missing 'architecture' {input_dim, hidden, classes, activation}");
    }
    int inputDim = requireInt(a, "input_dim", json);
    int classes = requireInt(a, "classes", json);
    JsonNode h = a.get("hidden");
    if (h == null || !h.isArray()) {
      throw new InputException(
          json + ": architecture.hidden must be a list of layer widths ([] for logistic)");
    }
    int[] hidden = new int[h.size()];
    for (int i = 0; i < hidden.length; i++) {
      if (!h.get(i).canConvertToInt() || !h.get(i).isIntegralNumber() || h.get(i).asInt() < 1) {
        throw new InputException(
            json + ": architecture.hidden[" + i + "] must be a positive integer");
      }
      hidden[i] = h.get(i).asInt();
    }
    if (inputDim < 1 || classes < 2) {
      throw new InputException(json + ": architecture needs input_dim >= 1 and classes >= 2");
    }
    String act = a.path("activation").asText("");
    ActivationKind activation;
    try {
      activation = ActivationKind.valueOf(act.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InputException(
          json + ": architecture.activation '" + act + "' must be relu, tanh or sigmoid");
    }
    Architecture arch = new Architecture(inputDim, hidden, classes, activation);
    if (arch.paramCount() > Integer.MAX_VALUE - 8) {
      throw new InputException(
          json
              + ": "
              + arch
              + " has "
              + arch.paramCount()
              + " parameters; ggda holds at most 2^31");
    }
    return arch;
  }

  private static int requireInt(JsonNode node, String field, Path json) {
    JsonNode v = node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new InputException(json + ": '" + field + "' must be an integer");
    }
    return v.asInt();
  }

  private static long requireLong(JsonNode node, String field, Path json) {
    JsonNode v = node.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new InputException(json + ": '" + field + "' must be an integer");
    }
    return v.asLong();
  }

  private static double requireDouble(JsonNode node, String field, Path json) {
    JsonNode v = node.get(field);
    if (v == null || !v.isNumber()) {
      throw new InputException(json + ": '" + field + "' must be a number");
    }
    return v.asDouble();
  }
}
