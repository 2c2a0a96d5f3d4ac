package dev.ggda.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.io.Npy;
import dev.ggda.io.NpyArray;
import dev.ggda.math.Architecture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {
  private static final Configuration CONF = new Configuration();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Architecture MLP =
      new Architecture(4, new int[] {5, 3}, 3, ActivationKind.TANH);

  @TempDir java.nio.file.Path tmp;

  private static TrainedModel model(Architecture arch, int members, int checkpoints, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<List<Checkpoint>> ms = new ArrayList<>();
    for (int m = 0; m < members; m++) {
      List<Checkpoint> cps = new ArrayList<>();
      for (int t = 0; t < checkpoints; t++) {
        float[] p = new float[(int) arch.paramCount()];
        for (int i = 0; i < p.length; i++) {
          p[i] = (float) r.nextGaussian();
        }
        p[0] = -0f; // sign of zero and subnormals must survive
        p[1] = Float.MIN_VALUE;
        cps.add(new Checkpoint(m, t, 100L * t + m, t, 0.1 / (t + 3), p));
      }
      ms.add(cps);
    }
    return new TrainedModel(arch, 1.0e-4 / 3, ms);
  }

  private String dir(String name) {
    return tmp.resolve(name).toString();
  }

  private static void assertSameModel(TrainedModel expected, TrainedModel actual) {
    assertEquals(expected.architecture(), actual.architecture());
    assertEquals(
        Double.doubleToRawLongBits(expected.l2()), Double.doubleToRawLongBits(actual.l2()));
    assertEquals(expected.memberCount(), actual.memberCount());
    for (int m = 0; m < expected.memberCount(); m++) {
      assertEquals(expected.members().get(m).size(), actual.members().get(m).size());
      for (int t = 0; t < expected.members().get(m).size(); t++) {
        Checkpoint e = expected.members().get(m).get(t);
        Checkpoint a = actual.members().get(m).get(t);
        assertEquals(e.member(), a.member());
        assertEquals(e.index(), a.index());
        assertEquals(e.step(), a.step());
        assertEquals(e.epoch(), a.epoch());
        assertEquals(
            Double.doubleToRawLongBits(e.learningRate()),
            Double.doubleToRawLongBits(a.learningRate()));
        assertEquals(e.params().length, a.params().length);
        for (int i = 0; i < e.params().length; i++) {
          assertEquals(
              Float.floatToRawIntBits(e.params()[i]),
              Float.floatToRawIntBits(a.params()[i]),
              "param " + i);
        }
      }
    }
  }

  @Test
  void roundTripIsBitIdenticalWithAllMetadata() {
    TrainedModel model = model(MLP, 2, 3, 1);
    ModelStore.save(model, dir("model"), CONF);
    assertSameModel(model, ModelStore.load(dir("model"), CONF));
    assertTrue(ModelStore.isGgdaModel(dir("model"), CONF));

    TrainedModel logistic = model(Architecture.logistic(6, 4), 1, 2, 2);
    ModelStore.save(logistic, dir("logistic"), CONF);
    assertSameModel(logistic, ModelStore.load(dir("logistic"), CONF));
  }

  @Test
  void layoutIsPlainJsonAndNumpyArrays() throws IOException {
    TrainedModel model = model(MLP, 2, 3, 3);
    ModelStore.save(model, dir("model"), CONF);
    JsonNode index = JSON.readTree(tmp.resolve("model/model.json").toFile());
    assertEquals("ggda-model", index.get("format").asText());
    assertEquals(1, index.get("format_version").asInt());
    assertEquals("index", index.get("kind").asText());
    assertEquals(4, index.at("/architecture/input_dim").asInt());
    assertEquals("[5,3]", index.at("/architecture/hidden").toString());
    assertEquals(3, index.at("/architecture/classes").asInt());
    assertEquals("tanh", index.at("/architecture/activation").asText());
    assertEquals("[0,1,2]", index.at("/members/1/checkpoints").toString());

    java.nio.file.Path cpDir = tmp.resolve("model/member-1/checkpoint-2");
    JsonNode cp = JSON.readTree(cpDir.resolve("model.json").toFile());
    assertEquals(1, cp.get("member").asInt());
    assertEquals(2, cp.get("checkpoint").asInt());
    assertEquals(201, cp.get("step").asLong());
    assertEquals(2, cp.get("epoch").asInt());
    assertEquals(0.1 / 5, cp.get("learning_rate").asDouble(), 0.0);
    assertEquals(1.0e-4 / 3, cp.get("l2").asDouble(), 0.0);

    // W_l is (in, out) row-major and x @ W + b is the layer: W1[i][j] = flat[off + i*out + j].
    float[] p = model.members().get(1).get(2).params();
    NpyArray w1 = Npy.fromBytes(Files.readAllBytes(cpDir.resolve("W1.npy")), "W1.npy");
    assertArrayEquals(new long[] {5, 3}, w1.shape());
    assertEquals(NpyArray.DType.FLOAT32, w1.dtype());
    assertEquals(p[(int) MLP.weightOffset(1) + 4 * 3 + 2], w1.floats()[4 * 3 + 2]);
    NpyArray b2 = Npy.fromBytes(Files.readAllBytes(cpDir.resolve("b2.npy")), "b2.npy");
    assertArrayEquals(new long[] {3}, b2.shape());
    assertEquals(p[(int) MLP.biasOffset(2) + 1], b2.floats()[1]);
  }

  @Test
  void loadsOneCheckpointFolderAsOneMemberAndAcceptsFloat64Arrays() throws IOException {
    TrainedModel model = model(MLP, 2, 3, 4);
    ModelStore.save(model, dir("model"), CONF);
    String cpDir = dir("model/member-1/checkpoint-2");
    TrainedModel one = ModelStore.load(cpDir, CONF);
    Checkpoint src = model.members().get(1).get(2);
    assertEquals(1, one.memberCount());
    assertEquals(1, one.members().get(0).size());
    Checkpoint cp = one.finalCheckpoint(0);
    assertEquals(0, cp.member());
    assertEquals(0, cp.index());
    assertEquals(src.step(), cp.step());
    assertEquals(src.epoch(), cp.epoch());
    assertEquals(src.learningRate(), cp.learningRate(), 0.0);
    assertArrayEquals(src.params(), cp.params());

    // A float64 array written from NumPy by hand is accepted and rounded to float32.
    FileSystem fs = FileSystem.getLocal(CONF);
    Path w0 = new Path(cpDir, "W0.npy");
    NpyArray orig = Npy.read(fs, w0);
    Npy.write(fs, w0, NpyArray.ofDoubles(orig.toDoubles(), orig.shape()));
    assertArrayEquals(src.params(), ModelStore.load(cpDir, CONF).finalCheckpoint(0).params());
  }

  @Test
  void wrongShapeNamesFileAndExpectedShape() throws IOException {
    ModelStore.save(model(MLP, 1, 1, 5), dir("model"), CONF);
    FileSystem fs = FileSystem.getLocal(CONF);
    Path w1 = new Path(dir("model/member-0/checkpoint-0"), "W1.npy");
    Npy.write(fs, w1, NpyArray.ofFloats(new float[15], 3, 5)); // transposed
    InputException e =
        assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(e.getMessage().contains("W1.npy has shape (3, 5), expected (5, 3)"), e.getMessage());

    Npy.write(fs, w1, NpyArray.ofFloats(new float[15], 5, 3)); // fix W1, break b0
    Path b0 = new Path(dir("model/member-0/checkpoint-0"), "b0.npy");
    Npy.write(fs, b0, NpyArray.ofFloats(new float[5], 1, 5)); // row vector instead of (5,)
    e = assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(e.getMessage().contains("b0.npy has shape (1, 5), expected (5,)"), e.getMessage());
  }

  @Test
  void missingArrayNamesFile() throws IOException {
    ModelStore.save(model(MLP, 1, 2, 6), dir("model"), CONF);
    FileSystem.getLocal(CONF).delete(new Path(dir("model/member-0/checkpoint-1"), "b2.npy"), false);
    InputException e =
        assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(
        e.getMessage().contains("checkpoint-1/b2.npy is missing")
            && e.getMessage().contains("shape (3,)"),
        e.getMessage());
  }

  @Test
  void corruptOrEditedNpyIsInputError() throws IOException {
    ModelStore.save(model(MLP, 1, 1, 7), dir("model"), CONF);
    FileSystem fs = FileSystem.getLocal(CONF);
    Path w0 = new Path(dir("model/member-0/checkpoint-0"), "W0.npy");
    // Written through Hadoop (checksum consistent) but truncated content.
    byte[] good = Npy.toBytes(Npy.read(fs, w0));
    try (var out = fs.create(w0, true)) {
      out.write(good, 0, good.length - 5);
    }
    InputException e =
        assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(e.getMessage().contains("W0.npy: truncated"), e.getMessage());

    // Edited behind Hadoop's back: the stale .crc catches it.
    try (var out = fs.create(w0, true)) {
      out.write(good);
    }
    byte[] flipped = good.clone();
    flipped[flipped.length - 1] ^= 1;
    Files.write(tmp.resolve("model/member-0/checkpoint-0/W0.npy"), flipped);
    e = assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(e.getMessage().contains("W0.npy: checksum mismatch"), e.getMessage());

    // Non-finite weights make the model unusable.
    NpyArray a = Npy.fromBytes(good, "W0");
    a.floats()[3] = Float.NaN;
    Npy.write(fs, w0, a);
    e = assertThrows(InputException.class, () -> ModelStore.load(dir("model"), CONF));
    assertTrue(e.getMessage().contains("W0.npy holds a non-finite value"), e.getMessage());
  }

  @Test
  void metadataProblemsAreInputErrors() throws IOException {
    ModelStore.save(model(MLP, 1, 1, 8), dir("model"), CONF);
    FileSystem fs = FileSystem.getLocal(CONF);
    Path index = new Path(dir("model"), "model.json");
    ObjectNode good = (ObjectNode) JSON.readTree(tmp.resolve("model/model.json").toFile());

    ObjectNode v2 = good.deepCopy().put("format_version", 2);
    writeJson(fs, index, v2.toString());
    assertMessage(dir("model"), "model.json: format_version 2 is not supported");

    writeJson(fs, index, good.deepCopy().put("format", "keras").toString());
    assertMessage(dir("model"), "'format' is \"keras\", expected \"ggda-model\"");

    writeJson(fs, index, "{\"format\": \"ggda-model\", ");
    assertMessage(dir("model"), "model.json: not valid JSON");

    ObjectNode badAct = good.deepCopy();
    ((ObjectNode) badAct.get("architecture")).put("activation", "gelu");
    writeJson(fs, index, badAct.toString());
    assertMessage(dir("model"), "activation 'gelu' must be relu, tanh or sigmoid");

    ObjectNode otherArch = good.deepCopy();
    ((ObjectNode) otherArch.get("architecture")).putArray("hidden").add(5).add(4);
    writeJson(fs, index, otherArch.toString());
    assertMessage(dir("model"), "checkpoint-0/model.json: architecture");

    ObjectNode noStep =
        (ObjectNode) JSON.readTree(tmp.resolve("model/member-0/checkpoint-0/model.json").toFile());
    noStep.remove("step");
    writeJson(fs, new Path(dir("model/member-0/checkpoint-0"), "model.json"), noStep.toString());
    assertMessage(dir("model/member-0/checkpoint-0"), "'step' must be an integer");

    InputException e =
        assertThrows(InputException.class, () -> ModelStore.load(dir("model/member-0"), CONF));
    assertTrue(
        e.getMessage().contains("member-0/model.json not found; expected the model/ folder"),
        e.getMessage());
    assertFalse(ModelStore.isGgdaModel(dir("model/member-0"), CONF));
  }

  private static void writeJson(FileSystem fs, Path p, String text) throws IOException {
    try (var out = fs.create(p, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void assertMessage(String dir, String fragment) {
    InputException e = assertThrows(InputException.class, () -> ModelStore.load(dir, CONF));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }
}
