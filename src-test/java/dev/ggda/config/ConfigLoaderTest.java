package dev.ggda.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
  /** The one key without a default: synthetic data needs no path. */
  private static final String SYNTHETIC = "data.train.format=synthetic";

  private static GgdaConfig resolve(String yaml, String... sets) {
    return ConfigLoader.fromYaml(yaml, List.of(sets));
  }

  private static GgdaConfig synthetic(String yaml, String... sets) {
    List<String> all = new ArrayList<>(List.of(SYNTHETIC));
    all.addAll(List.of(sets));
    return ConfigLoader.fromYaml(yaml, all);
  }

  /** Asserts the config is rejected with a one-line message, and returns that message. */
  private static String rejected(String yaml, String... sets) {
    List<String> all = new ArrayList<>(List.of(SYNTHETIC));
    all.addAll(List.of(sets));
    InputException e = assertThrows(InputException.class, () -> ConfigLoader.fromYaml(yaml, all));
    assertOneLine(e.getMessage());
    return e.getMessage();
  }

  private static void assertOneLine(String message) {
    assertNotNull(message);
    assertFalse(message.contains("\n") || message.contains("\r"), () -> "not one line: " + message);
  }

  private static void assertContains(String haystack, String needle) {
    assertTrue(haystack.contains(needle), () -> "expected '" + needle + "' in: " + haystack);
  }

  private static GgdaConfig designDefaults() {
    SyntheticSpec synthetic = new SyntheticSpec(10000, 20, 10, 0.0, 4.0, 0);
    return new GgdaConfig(
        new DataConfig(
            new DataSource(
                null, DataFormat.SYNTHETIC, "id", "label", "features", null, null, null, synthetic),
            null,
            null),
        new ModelConfig(ModelKind.MLP, List.of(128), ActivationKind.RELU, 1.0e-4, null),
        new TrainConfig(10, 256, 0.1, LrSchedule.CONSTANT, 5, 1, 0.5, 0, TrainMode.AUTO),
        new GroupConfig(GroupMethod.KMEANS_GRAD, 64, null, 0, true, 0),
        new AttributeConfig(
            AttributionMethod.TRAK,
            new ProjectionConfig(ProjectionKind.RADEMACHER, 2048, 0),
            KernelMode.SAMPLED,
            HessianMode.CG,
            0.0,
            TargetMode.PER_EXAMPLE,
            1.0),
        new OutputConfig("out/run", OutputFormat.PARQUET, null, OutputMode.ERROR),
        new EvaluateConfig(
            List.of(EvalMetric.LDS, EvalMetric.GROUP_LDS, EvalMetric.REMOVAL),
            100,
            0.5,
            1,
            SeedMode.INDEPENDENT,
            null,
            List.of(0.01, 0.05, 0.10, 0.20),
            3,
            30,
            0,
            null),
        new PruneConfig(
            0.2,
            null,
            PruneRankBy.VALUE_PER_EXAMPLE,
            List.of(0.1, 0.2, 0.3, 0.4, 0.5),
            3,
            List.of(ExampleSignal.LOSS, ExampleSignal.REFIT_LOSS),
            0.5),
        new NoiseConfig(
            NoiseSignal.SELF_INFLUENCE, ExampleSignal.REFIT_LOSS, 0.2, 0.1, FlipKind.UNIFORM, 0),
        new ComputeConfig(ComputeDevice.AUTO),
        new IncrementalConfig(null));
  }

  // ---- defaults

  @Test
  void defaultsFollowDesignSection8() {
    assertEquals(designDefaults(), resolve(null, SYNTHETIC));
    assertEquals(designDefaults(), ConfigLoader.load(null, List.of(SYNTHETIC)));
  }

  @Test
  void emptyOrCommentOnlyYamlAndEmptySectionsKeepDefaults() {
    assertEquals(designDefaults(), synthetic(""));
    assertEquals(designDefaults(), synthetic("# nothing but a comment\n"));
    assertEquals(designDefaults(), synthetic("model:\ntrain:\n  # epochs: 3\n"));
  }

  @Test
  void defaultsFileDocumentsEveryKeyWithAComment() throws IOException {
    try (InputStream in =
        ConfigLoader.class.getResourceAsStream("/dev/ggda/config/defaults.yaml")) {
      assertNotNull(in, "defaults.yaml on the classpath");
      List<String> undocumented =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .lines()
              .filter(line -> line.matches("\\s*[a-z_0-9]+:.*") && !line.contains("#"))
              .filter(line -> !line.matches("(data|model|train|group|attribute|output):\\s*"))
              .toList();
      assertEquals(List.of(), undocumented);
    }
  }

  @Test
  void loadReadsAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("run.yaml");
    Files.writeString(
        file, "data:\n  train:\n    path: /data/train.parquet\ntrain:\n  epochs: 3\n");
    GgdaConfig c = ConfigLoader.load(file.toString(), null);
    assertEquals("/data/train.parquet", c.data().train().path());
    assertEquals(DataFormat.PARQUET, c.data().train().format());
    assertEquals(3, c.train().epochs());
  }

  // ---- overrides

  @Test
  void yamlDeepMergesOverDefaultsAndSetsApplyAfterInOrder() {
    String yaml =
        """
        model:
          hidden: [64, 32]
          activation: tanh
        train:
          epochs: 3
        attribute:
          projection: {dim: 512}
        output: {top_k: 10}
        """;
    GgdaConfig c =
        synthetic(
            yaml,
            "train.epochs=7",
            "model.hidden=[256,128]",
            "output.top_k=null",
            "train.epochs=8",
            "attribute.projection.seed=42");
    assertEquals(8, c.train().epochs()); // the last --set wins
    assertEquals(256, c.train().batchSize()); // untouched keys keep defaults
    assertEquals(List.of(256, 128), c.model().hidden());
    assertEquals(ActivationKind.TANH, c.model().activation());
    assertNull(c.output().topK());
    assertEquals(
        new ProjectionConfig(ProjectionKind.RADEMACHER, 512, 42), c.attribute().projection());
  }

  @Test
  void setParsesYamlFlowValues() {
    GgdaConfig c =
        synthetic(
            null,
            "model.hidden=32",
            "model.l2=1e-3",
            "output.top_k=5",
            "data.classes=12",
            "attribute.projection={kind: gaussian, dim: 64}");
    assertEquals(List.of(32), c.model().hidden()); // a single width means [width]
    assertEquals(1e-3, c.model().l2());
    assertEquals(5, c.output().topK());
    assertEquals(12, c.data().classes());
    assertEquals(new ProjectionConfig(ProjectionKind.GAUSSIAN, 64, 0), c.attribute().projection());
  }

  @Test
  void setTakesStringValuesLiterally() {
    GgdaConfig c =
        resolve(
            null,
            "data.train.path=hdfs://nn:8020/data/train #1.parquet",
            "data.train.id_col=010",
            "data.train.label_col='null'",
            "data.train.group_col=null",
            "output.path=out: x");
    assertEquals("hdfs://nn:8020/data/train #1.parquet", c.data().train().path());
    assertEquals("010", c.data().train().idCol());
    assertEquals("null", c.data().train().labelCol());
    assertNull(c.data().train().groupCol());
    assertEquals("out: x", c.output().path());
  }

  @Test
  void setReplacesASectionTheYamlNulled() {
    GgdaConfig c = synthetic("data:\n  targets: null\n", "data.targets.path=/t.parquet");
    assertEquals("/t.parquet", c.data().targets().path());
  }

  @ParameterizedTest
  @CsvSource({
    "group.method=kmeans-grad, KMEANS_GRAD",
    "group.method=KMEANS_GRAD, KMEANS_GRAD",
    "group.method=Kmeans-Grad, KMEANS_GRAD",
    "group.method=kmeans_input, KMEANS_INPUT",
    "group.method=kmeans-repr, KMEANS_REPR",
  })
  void groupMethodsAcceptHyphensAndAnyCase(String set, GroupMethod expected) {
    assertEquals(expected, synthetic(null, set).group().method());
  }

  @Test
  void attributeEnumsAcceptTheirYamlSpelling() {
    GgdaConfig c =
        synthetic(
            "attribute: {method: if, target: per-example, hessian: PROJECTED, kernel: Exact}");
    assertEquals(AttributionMethod.IF, c.attribute().method());
    assertEquals(TargetMode.PER_EXAMPLE, c.attribute().target());
    assertEquals(HessianMode.PROJECTED, c.attribute().hessian());
    assertEquals(KernelMode.EXACT, c.attribute().kernel());
    assertEquals(
        TargetMode.AGGREGATE, synthetic(null, "attribute.target=aggregate").attribute().target());
  }

  @Test
  void computeDeviceIsAutoUnlessSet() {
    assertEquals(ComputeDevice.AUTO, synthetic("").compute().device());
    assertEquals(ComputeDevice.CUDA, synthetic("compute: {device: CUDA}").compute().device());
    assertEquals(ComputeDevice.CPU, synthetic(null, "compute.device=cpu").compute().device());
  }

  @Test
  void hiddenWidthsAreReadOnly() {
    List<Integer> hidden = synthetic(null, "model.hidden=[8,4]").model().hidden();
    assertThrows(UnsupportedOperationException.class, () -> hidden.add(2));
  }

  // ---- targets

  @Test
  void noTargetsSectionMeansNoTargets() {
    assertNull(synthetic(null).data().targets());
    assertNull(synthetic("data: {train: {limit: 5}}").data().targets());
  }

  @Test
  void targetsWithAPathGetTheSourceDefaults() {
    DataSource t =
        synthetic("data:\n  targets:\n    path: /data/test.csv\n    format: csv\n")
            .data()
            .targets();
    assertEquals(
        new DataSource(
            "/data/test.csv",
            DataFormat.CSV,
            "id",
            "label",
            "features",
            null,
            null,
            null,
            new SyntheticSpec(10000, 20, 10, 0.0, 4.0, 0)),
        t);
  }

  @Test
  void targetsWithoutPathAreDroppedUnlessSynthetic() {
    assertNull(synthetic("data: {targets: {limit: 100}}").data().targets());
    assertNull(synthetic(null, "data.targets.limit=100").data().targets());
    DataSource t =
        synthetic(null, "data.targets.format=synthetic", "data.targets.synthetic.n=50")
            .data()
            .targets();
    assertEquals(DataFormat.SYNTHETIC, t.format());
    assertEquals(50, t.synthetic().n());
  }

  @Test
  void setCanRemoveTargets() {
    assertNull(synthetic("data: {targets: {path: /t}}", "data.targets=null").data().targets());
  }

  // ---- rendering

  @Test
  void toJsonUsesYamlKeysAndEnumWords() {
    String json = ConfigLoader.toJson(synthetic(null, "output.top_k=3"));
    assertContains(json, "\"batch_size\" : 256");
    assertContains(json, "\"member_fraction\" : 0.5");
    assertContains(json, "\"top_k\" : 3");
    assertContains(json, "\"method\" : \"kmeans-grad\"");
    assertContains(json, "\"target\" : \"per-example\"");
    assertContains(json, "\"targets\" : null");
    assertFalse(json.contains("batchSize") || json.contains("KMEANS"), json);
  }

  @Test
  void toYamlRoundTripsTheDefaults() {
    GgdaConfig c = synthetic(null);
    String yaml = ConfigLoader.toYaml(c);
    assertContains(yaml, "method: \"kmeans-grad\"");
    assertEquals(c, resolve(yaml));
  }

  @Test
  void toYamlRoundTripsEveryNonDefault() {
    String yaml =
        """
        data:
          train: {path: '010', format: csv, id_col: 'null', label_col: 'y: z', features_col: '#x',
                  group_col: shard, labels_path: '/l #1', limit: 5,
                  synthetic: {n: 7, dim: 3, classes: 4, label_noise: 0.25, separation: 1.5, seed: -3}}
          targets: {path: 'true', format: idx, labels_path: '0x1F', limit: 9}
          classes: 11
        model: {kind: logistic, hidden: [], activation: sigmoid, l2: 1.0e-12, load: '.inf'}
        train: {epochs: 2, batch_size: 3, learning_rate: 1.0e-5, schedule: linear, checkpoints: 2000,
                members: 4, member_fraction: 1.0, seed: 9007199254740993, mode: distributed}
        group: {method: column, size: 1, count: 77, seed: 5}
        attribute: {method: gradcos, projection: {kind: factored, dim: 1, seed: 8}, kernel: sampled,
                    hessian: exact, damping: 0.001, target: aggregate}
        output: {path: '1e3', format: csv, top_k: 1, mode: resume}
        """;
    GgdaConfig c = resolve(yaml);
    assertEquals("010", c.data().train().path());
    assertEquals(9007199254740993L, c.train().seed());
    GgdaConfig back = resolve(ConfigLoader.toYaml(c));
    assertEquals(c, back);
    assertEquals(c, resolve(ConfigLoader.toJson(c))); // JSON is YAML too
  }

  @Test
  void yamlNameSpellsEnumsAsTheConfigDoes() {
    assertEquals("kmeans-grad", ConfigLoader.yamlName(GroupMethod.KMEANS_GRAD));
    assertEquals("if", ConfigLoader.yamlName(AttributionMethod.IF));
  }

  // ---- key errors

  @Test
  void unknownKeySuggestsTheClosestAndListsTheValidOnes() {
    assertEquals(
        "config: unknown key 'train.epoch' (did you mean 'train.epochs'?); valid keys under train: epochs, "
            + "batch_size, learning_rate, schedule, checkpoints, members, member_fraction, seed, mode",
        rejected("train:\n  epoch: 3\n"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "foo: 1                                          | unknown key 'foo'; valid top-level keys: data, model",
        "data: {train: {paht: x}}                        | unknown key 'data.train.paht' (did you mean 'data.train.path'?)",
        "data: {train: {synthetic: {noise: 0.1}}}        | unknown key 'data.train.synthetic.noise'",
        "attribute: {projection: {dims: 5}}              | unknown key 'attribute.projection.dims' (did you mean 'attribute.projection.dim'?)",
        "train: {batchSize: 5}                           | unknown key 'train.batchSize' (did you mean 'train.batch_size'?)",
        "train: {l2: 0.1}                                | unknown key 'train.l2' (did you mean 'model.l2'?)",
        "output: {top_k: 1, topk: 2}                     | unknown key 'output.topk' (did you mean 'output.top_k'?)",
      })
  void unknownKeysAreRejectedAtEveryLevel(String yaml, String expected) {
    assertContains(rejected(yaml), expected);
  }

  @Test
  void unknownKeyInSetNamesTheSet() {
    assertContains(
        rejected(null, "train.epoch=3"),
        "unknown key 'train.epoch' in --set train.epoch=3 (did you mean 'train.epochs'?); valid keys under train:");
    assertContains(
        rejected(null, "nope=1"), "unknown key 'nope' in --set nope=1; valid top-level keys:");
    assertContains(rejected(null, "train.epochs.x=1"), "train.epochs is a value, not a section");
    assertContains(rejected(null, "train..epochs=1"), "unknown key 'train.'");
  }

  @ParameterizedTest
  @CsvSource({"train.epochs", "=5", "''"})
  void setWithoutKeyOrEqualsIsRejected(String set) {
    assertContains(rejected(null, set), "--set expects KEY=VALUE with a dotted key");
  }

  @Test
  void sectionGivenAsAValueIsRejected() {
    assertEquals(
        "config: model must be a section with keys kind, hidden, activation, l2, load, got 5",
        rejected(null, "model=5"));
    assertContains(
        rejected("attribute: {projection: fast}"), "attribute.projection must be a section");
  }

  // ---- type errors

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "attribute.projection.dim=abc | config: wrong type for attribute.projection.dim: expected an integer, got 'abc'",
        "train.epochs=2.5             | config: wrong type for train.epochs: expected an integer, got 2.5",
        "train.epochs=3000000000      | config: wrong type for train.epochs: expected an integer up to 2147483647, got 3000000000",
        "train.epochs=null            | config: wrong type for train.epochs: expected an integer, got null",
        "train.epochs=[1, 2]          | config: wrong type for train.epochs: expected an integer, got [1,2]",
        "train.learning_rate=fast     | config: wrong type for train.learning_rate: expected a number, got 'fast'",
        "model.hidden=[64, x]         | config: wrong type for model.hidden[1]: expected an integer, got 'x'",
        "data.train.limit=lots        | config: wrong type for data.train.limit: expected an integer, got 'lots'",
      })
  void wrongTypesNameTheKeyAndTheExpectedType(String set, String expected) {
    assertEquals(expected, rejected(null, set));
  }

  @Test
  void wrongTypeForAStringIsRejectedInYaml() {
    assertEquals(
        "config: wrong type for output.path: expected a string, got [\"a\",\"b\"]",
        rejected("output: {path: [a, b]}"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "model.kind=cnn      | config: model.kind must be one of logistic, mlp, got 'cnn'",
        "model.kind=null     | config: model.kind must be one of logistic, mlp, got null",
        "model.kind=3        | config: model.kind must be one of logistic, mlp, got 3",
        "group.method=kmeans | config: group.method must be one of random, label, column, kmeans-input, kmeans-repr, kmeans-grad, got 'kmeans'",
        "attribute.method=influence | config: attribute.method must be one of trak, tracin, if, graddot, gradcos, got 'influence'",
        "compute.device=gpu  | config: compute.device must be one of auto, cpu, cuda, got 'gpu'",
      })
  void badEnumValuesListTheValidWords(String set, String expected) {
    assertEquals(expected, rejected(null, set));
  }

  // ---- file and syntax errors

  @Test
  void missingConfigFileSaysHowToFixIt() {
    InputException e =
        assertThrows(
            InputException.class, () -> ConfigLoader.load("/no/such/ggda.yaml", List.of()));
    assertEquals(
        "config file not found: /no/such/ggda.yaml; pass an existing YAML file with --config",
        e.getMessage());
  }

  @Test
  void directoryAsConfigFileIsRejected(@TempDir Path dir) {
    InputException e =
        assertThrows(InputException.class, () -> ConfigLoader.load(dir.toString(), List.of()));
    assertContains(e.getMessage(), "is a directory");
  }

  @Test
  void yamlSyntaxErrorGivesFileAndLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "model:\n  kind: mlp\n   hidden: [3]\n");
    InputException e =
        assertThrows(InputException.class, () -> ConfigLoader.load(file.toString(), List.of()));
    assertOneLine(e.getMessage());
    assertContains(e.getMessage(), "config: YAML syntax error in " + file + " at line 3");
  }

  @Test
  void duplicateKeysAreRejected() {
    assertContains(
        rejected("train:\n  epochs: 2\n  epochs: 3\n"), "duplicate key 'epochs' at line 3");
  }

  @Test
  void topLevelMustBeAMapping() {
    assertContains(
        rejected("- data\n- model\n"),
        "config: the top level must be a mapping with keys data, model");
  }

  // ---- range validation

  static Stream<Arguments> outOfRange() {
    return Stream.of(
        Arguments.of(List.of("data.train.format=parquet"), "config: data.train.path is required"),
        Arguments.of(List.of("data.train.path= "), "data.train.path must not be empty"),
        Arguments.of(
            List.of("data.classes=1"), "config: data.classes must be an integer >= 2, got 1"),
        Arguments.of(
            List.of("data.classes=5"),
            "data.classes (5) must be at least data.train.synthetic.classes (10)"),
        Arguments.of(
            List.of("data.train.limit=0"), "data.train.limit must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("data.targets.path=/t", "data.targets.limit=0"),
            "data.targets.limit must be an integer >= 1, got 0"),
        Arguments.of(List.of("data.train.label_col= "), "data.train.label_col must name a column"),
        Arguments.of(
            List.of("data.train.labels_path=''"), "data.train.labels_path must not be empty"),
        Arguments.of(
            List.of("data.train.synthetic.n=0"),
            "data.train.synthetic.n must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("data.train.synthetic.dim=0"),
            "data.train.synthetic.dim must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("data.train.synthetic.classes=1"),
            "data.train.synthetic.classes must be an integer >= 2, got 1"),
        Arguments.of(
            List.of("data.train.synthetic.label_noise=1"),
            "data.train.synthetic.label_noise must be a number in [0, 1), got 1.0"),
        Arguments.of(
            List.of("data.train.synthetic.label_noise=-0.1"),
            "data.train.synthetic.label_noise must be a number in [0, 1), got -0.1"),
        Arguments.of(
            List.of("data.train.synthetic.separation=0"),
            "data.train.synthetic.separation must be a finite number > 0, got 0.0"),
        Arguments.of(
            List.of("data.targets.format=synthetic", "data.targets.synthetic.n=0"),
            "data.targets.synthetic.n must be an integer >= 1"),
        Arguments.of(
            List.of("model.hidden=[]"),
            "model.hidden must list at least one layer width when model.kind is mlp"),
        Arguments.of(
            List.of("model.hidden=[128, 0]"), "model.hidden[1] must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("model.kind=logistic", "model.hidden=[null]"),
            "model.hidden[0] must be an integer >= 1, got null"),
        Arguments.of(List.of("model.l2=-1"), "model.l2 must be a finite number >= 0, got -1.0"),
        Arguments.of(
            List.of("train.epochs=0"), "config: train.epochs must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("train.batch_size=0"), "train.batch_size must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("train.learning_rate=0"),
            "train.learning_rate must be a finite number > 0, got 0.0"),
        Arguments.of(
            List.of("train.learning_rate=-0.5"),
            "train.learning_rate must be a finite number > 0, got -0.5"),
        Arguments.of(
            List.of("train.checkpoints=0"), "train.checkpoints must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("train.epochs=2", "train.checkpoints=2001"),
            "train.checkpoints must be at most train.epochs * 1000 = 2000, got 2001"),
        Arguments.of(List.of("train.members=0"), "train.members must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("train.member_fraction=0"),
            "train.member_fraction must be a number in (0, 1], got 0.0"),
        Arguments.of(
            List.of("train.member_fraction=1.5"),
            "train.member_fraction must be a number in (0, 1], got 1.5"),
        Arguments.of(List.of("group.size=0"), "group.size must be an integer >= 1, got 0"),
        Arguments.of(List.of("group.count=0"), "group.count must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("group.refit_every=-1"), "group.refit_every must be an integer >= 0, got -1"),
        Arguments.of(
            List.of("incremental.store=/s", "group.method=label"),
            "set group.method: column or kmeans-* (or group.size: 1), got group.method label"),
        Arguments.of(
            List.of("group.method=column"), "group.method column needs data.train.group_col"),
        Arguments.of(
            List.of("attribute.projection.dim=0"),
            "attribute.projection.dim must be an integer >= 1, got 0"),
        Arguments.of(
            List.of("attribute.damping=-0.01"),
            "attribute.damping must be a finite number >= 0, got -0.01"),
        Arguments.of(
            List.of("attribute.relative_damping=-1"),
            "attribute.relative_damping must be a finite number >= 0, got -1"),
        Arguments.of(List.of("output.path="), "output.path must not be empty"),
        Arguments.of(List.of("output.top_k=0"), "output.top_k must be an integer >= 1, got 0"));
  }

  @ParameterizedTest
  @MethodSource("outOfRange")
  void outOfRangeValuesAreRejectedNamingTheKey(List<String> sets, String expected) {
    assertContains(rejected(null, sets.toArray(String[]::new)), expected);
  }

  @Test
  void boundaryValuesAreAccepted() {
    GgdaConfig c =
        synthetic(
            null,
            "data.classes=10",
            "data.train.limit=1",
            "data.train.synthetic.label_noise=0",
            "train.member_fraction=1",
            "train.epochs=1",
            "train.checkpoints=1000",
            "group.size=1",
            "group.count=1",
            "group.method=column",
            "data.train.group_col=shard",
            "attribute.projection.dim=1",
            "attribute.damping=0",
            "output.top_k=1",
            "model.kind=logistic",
            "model.hidden=[]",
            "model.l2=0");
    assertEquals(1000, c.train().checkpoints());
    assertEquals(GroupMethod.COLUMN, c.group().method());
  }

  @Test
  void allRangeProblemsAreReportedInOneLine() {
    String message = rejected(null, "train.epochs=0", "group.size=0", "output.top_k=0");
    assertContains(message, "train.epochs must be");
    assertContains(message, "; group.size must be");
    assertContains(message, "; output.top_k must be");
  }

  @Test
  void validatorChecksProgrammaticConfigs() {
    GgdaConfig d = designDefaults();
    GgdaConfig bad =
        new GgdaConfig(
            d.data(),
            new ModelConfig(null, List.of(8), ActivationKind.RELU, Double.POSITIVE_INFINITY, null),
            new TrainConfig(1, 1, Double.NaN, LrSchedule.LINEAR, 1, 1, 0.5, 0, TrainMode.LOCAL),
            d.group(),
            null,
            d.output(),
            d.evaluate(),
            d.prune(),
            d.noise(),
            new ComputeConfig(null),
            null);
    InputException e = assertThrows(InputException.class, () -> ConfigValidator.validate(bad));
    assertOneLine(e.getMessage());
    assertContains(e.getMessage(), "model.kind must be one of logistic, mlp, got null");
    assertContains(e.getMessage(), "model.l2 must be a finite number >= 0, got Infinity");
    assertContains(e.getMessage(), "train.learning_rate must be a finite number > 0, got NaN");
    assertContains(e.getMessage(), "attribute section is missing");
    assertContains(e.getMessage(), "compute.device must be one of auto, cpu, cuda, got null");
    ConfigValidator.validate(d); // and the design defaults pass
  }

  @Test
  void pruneAndNoiseSectionsAreChecked() {
    String m =
        rejected(
            null,
            "prune.fraction=1.0",
            "prune.validate_fractions=[0.1, 0]",
            "prune.validate_seeds=0",
            "noise.inject_fraction=0",
            "prune.test_fraction=-0.5");
    assertContains(m, "prune.fraction must be a number in (0, 1), got 1.0");
    assertContains(m, "prune.validate_fractions[1] must be a number in (0, 1), got 0.0");
    assertContains(m, "prune.validate_seeds must be an integer >= 1, got 0");
    assertContains(m, "noise.inject_fraction must be a number in (0, 1), got 0.0");
    assertContains(m, "prune.test_fraction must be a number in (0, 1), got -0.5");
    assertContains(
        rejected(null, "noise.signal=gradient"),
        "noise.signal must be one of self-influence, validation, got 'gradient'");
    assertContains(
        rejected(null, "prune.rank_by=size"),
        "prune.rank_by must be one of value-per-example, value");
    assertContains(rejected("prune:\n  fracton: 0.3\n"), "unknown key 'prune.fracton'");
    GgdaConfig ok =
        synthetic(
            null, "prune.threshold=-0.5", "noise.signal=VALIDATION", "noise.example_signal=margin");
    assertEquals(-0.5, ok.prune().threshold());
    assertEquals(NoiseSignal.VALIDATION, ok.noise().signal());
    assertEquals(ExampleSignal.MARGIN, ok.noise().exampleSignal());
  }
}
