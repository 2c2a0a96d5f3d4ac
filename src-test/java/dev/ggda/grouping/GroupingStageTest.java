package dev.ggda.grouping;

import static dev.ggda.grouping.GroupingTestData.assignment;
import static dev.ggda.grouping.GroupingTestData.blobs;
import static dev.ggda.grouping.GroupingTestData.config;
import static dev.ggda.grouping.GroupingTestData.data;
import static dev.ggda.grouping.GroupingTestData.model;
import static dev.ggda.grouping.GroupingTestData.randomRows;
import static dev.ggda.grouping.GroupingTestData.spark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.GroupMethod;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.math.Projection;
import dev.ggda.model.TrainedModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GroupingStageTest {
  private static final Architecture MLP =
      new Architecture(4, new int[] {8}, 3, ActivationKind.TANH);

  @ParameterizedTest
  @EnumSource(GroupMethod.class)
  void everyMethodCoversEveryExampleOnceWithDenseIds(GroupMethod method) {
    List<Row> rows = randomRows(500, 4, 3, 1, true);
    Groups groups =
        GroupingStage.assign(
            spark(), config(method, 25, null, 3), data(rows, 4, 3, 3), model(MLP, 2));

    Map<Long, Long> assigned = assignment(groups);
    Set<Long> ids = rows.stream().map(r -> r.getLong(0)).collect(Collectors.toSet());
    assertEquals(ids, assigned.keySet());
    assertDense(assigned, groups.count());
    assertTrue(groups.count() > 1, "expected several groups, got " + groups.count());
  }

  @ParameterizedTest
  @EnumSource(GroupMethod.class)
  void sizeOneGivesEachExampleItsOwnGroupRankedById(GroupMethod method) {
    List<Row> rows = randomRows(200, 4, 3, 4, true);
    Groups groups =
        GroupingStage.assign(
            spark(), config(method, 1, null, 0), data(rows, 4, 3, 2), model(MLP, 2));

    assertEquals(200, groups.count());
    List<Long> sortedIds = rows.stream().map(r -> r.getLong(0)).sorted().toList();
    Map<Long, Long> assigned = assignment(groups);
    for (int rank = 0; rank < sortedIds.size(); rank++) {
      assertEquals(rank, assigned.get(sortedIds.get(rank)));
    }
  }

  @Test
  void randomGroupSizesAreNearTheRequestedMean() {
    List<Row> rows = randomRows(4000, 2, 3, 5, false);
    Groups groups =
        GroupingStage.assign(
            spark(),
            config(GroupMethod.RANDOM, 40, null, 9),
            data(rows, 2, 3, 4),
            model(MLP2(), 1));

    assertTrue(groups.count() >= 97 && groups.count() <= 100, "groups: " + groups.count());
    Map<Long, Long> sizes = sizes(assignment(groups));
    double mean = 4000.0 / sizes.size();
    assertEquals(40.0, mean, 2.0);
    // Binomial(4000, 1/100): sd about 6.3; 40 +- 5 sd.
    sizes.values().forEach(s -> assertTrue(s >= 9 && s <= 72, "group of size " + s));
  }

  @Test
  void labelGroupsArePureAndSplitEachClassBySize() {
    List<Row> rows = randomRows(1000, 4, 3, 6, false);
    Groups groups =
        GroupingStage.assign(
            spark(), config(GroupMethod.LABEL, 30, null, 1), data(rows, 4, 3, 3), model(MLP, 1));

    Map<Long, Integer> labelOf = new HashMap<>();
    rows.forEach(r -> labelOf.put(r.getLong(0), r.getInt(1)));
    Map<Long, Set<Integer>> labelsPerGroup = new HashMap<>();
    assignment(groups)
        .forEach(
            (id, g) ->
                labelsPerGroup.computeIfAbsent(g, k -> new HashSet<>()).add(labelOf.get(id)));
    labelsPerGroup.forEach(
        (g, labels) -> assertEquals(1, labels.size(), "group " + g + " mixes labels " + labels));
    for (int c = 0; c < 3; c++) {
      int label = c;
      long nc = labelOf.values().stream().filter(l -> l == label).count();
      long groupsOfC = labelsPerGroup.values().stream().filter(s -> s.contains(label)).count();
      long wanted = (nc + 29) / 30;
      assertTrue(
          groupsOfC <= wanted && groupsOfC >= wanted - 1,
          "class " + c + ": " + groupsOfC + " groups, wanted " + wanted);
    }
  }

  @Test
  void columnGroupsFollowTheUserColumnInSortedOrder() {
    List<Row> rows = new ArrayList<>(randomRows(300, 4, 3, 7, true));
    // A few examples without a group value: they form one group of their own, sorted first.
    for (int i = 0; i < 5; i++) {
      Row r = rows.get(i);
      rows.set(i, GroupingTestData.row(r.getLong(0), r.getInt(1), (float[]) r.get(2), null, true));
    }
    Groups groups =
        GroupingStage.assign(
            spark(), config(GroupMethod.COLUMN, 64, null, 0), data(rows, 4, 3, 3), model(MLP, 1));

    Map<Long, Long> assigned = assignment(groups);
    TreeSet<String> values = new TreeSet<>();
    Map<String, Set<Long>> idsPerValue = new HashMap<>();
    for (Row r : rows) {
      String v = r.isNullAt(3) ? "" : "v" + r.getString(3);
      values.add(v);
      idsPerValue.computeIfAbsent(v, k -> new HashSet<>()).add(assigned.get(r.getLong(0)));
    }
    assertEquals(values.size(), groups.count());
    long expected = 0;
    for (String v : values) {
      assertEquals(Set.of(expected++), idsPerValue.get(v), "value " + v);
    }
    // The value stays with its group: group_key in the assignment and in the stats.
    Map<Long, String> keyOf = new HashMap<>();
    for (Row r :
        groups.assignment().select("example_id", "group_id", "group_key").collectAsList()) {
      Row in = rows.stream().filter(x -> x.getLong(0) == r.getLong(0)).findFirst().orElseThrow();
      assertEquals(
          in.isNullAt(3) ? null : in.getString(3),
          r.isNullAt(2) ? null : r.getString(2),
          "example " + r.getLong(0));
      keyOf.put(r.getLong(1), r.isNullAt(2) ? null : r.getString(2));
    }
    List<Row> stats = groups.stats().select("group_id", "group_key").collectAsList();
    assertEquals(groups.count(), stats.size());
    for (Row r : stats) {
      assertEquals(
          keyOf.get(r.getLong(0)),
          r.isNullAt(1) ? null : r.getString(1),
          "stats of group " + r.getLong(0));
    }
    assertEquals(
        "group_key",
        groups.stats().columns()[groups.stats().columns().length - 1],
        "the key goes last");
  }

  @Test
  void columnWithoutAGroupColumnIsAnInputError() {
    LoadedData noGroup = data(randomRows(50, 4, 3, 1, false), 4, 3, 1);
    InputException e =
        assertThrows(
            InputException.class,
            () ->
                GroupingStage.assign(
                    spark(), config(GroupMethod.COLUMN, 10, null, 0), noGroup, model(MLP, 1)));
    assertTrue(e.getMessage().contains("data.train.group_col"), e.getMessage());
  }

  @Test
  void kmeansOnInputsRecoversWellSeparatedBlobs() {
    List<Row> rows = blobs(200, 4, 3, 11);
    Groups groups =
        GroupingStage.assign(
            spark(),
            config(GroupMethod.KMEANS_INPUT, 64, 4, 5),
            data(rows, 3, 4, 3),
            model(new Architecture(3, new int[0], 4, ActivationKind.RELU), 1));

    assertEquals(4, groups.count());
    Map<Long, Integer> blobOf = new HashMap<>();
    rows.forEach(r -> blobOf.put(r.getLong(0), r.getInt(1)));
    Map<Long, Map<Integer, Integer>> counts = new HashMap<>();
    assignment(groups)
        .forEach(
            (id, g) ->
                counts
                    .computeIfAbsent(g, k -> new HashMap<>())
                    .merge(blobOf.get(id), 1, Integer::sum));
    long majority =
        counts.values().stream()
            .mapToLong(m -> m.values().stream().mapToInt(i -> i).max().orElse(0))
            .sum();
    double purity = (double) majority / rows.size();
    assertTrue(purity > 0.95, "purity " + purity);
  }

  static Stream<Arguments> gradientModels() {
    return Stream.of(
        // Penultimate width 40 > 32: projected to 32 dims.
        Arguments.of(new Architecture(4, new int[] {40}, 3, ActivationKind.TANH)),
        // Logistic regression on 5 inputs: a_{L-1} is the input, used unprojected.
        Arguments.of(new Architecture(5, new int[0], 3, ActivationKind.RELU)));
  }

  @ParameterizedTest
  @MethodSource("gradientModels")
  void gradientFeaturesEqualThePerExampleOuterProduct(Architecture arch) {
    int dim = arch.inputDim();
    List<Row> rows = randomRows(1100, dim, 3, 12, false);
    TrainedModel model = model(arch, 3);
    long seed = 21;
    var spec =
        spark()
            .sparkContext()
            .broadcast(ModelSpec.of(model), scala.reflect.ClassTag$.MODULE$.apply(ModelSpec.class));
    List<Row> features =
        KMeansGrouping.features(GroupMethod.KMEANS_GRAD, seed, false, data(rows, dim, 3, 2), spec)
            .collectAsList();

    Network net = model.finalNetwork();
    int p = ModelFeatures.penultimateWidth(arch);
    Projection pin = ModelFeatures.inputProjection(seed, p);
    assertEquals(p > ModelFeatures.GRADIENT_INPUT_DIM, pin != null);
    Map<Long, Row> byId = new HashMap<>();
    rows.forEach(r -> byId.put(r.getLong(0), r));
    assertEquals(rows.size(), features.size());
    for (Row f : features) {
      Row example = byId.get(f.getLong(0));
      double[] expected =
          bruteForceGradientFeature(net, pin, (float[]) example.get(2), example.getInt(1));
      double[] actual = ((Vector) f.get(1)).toArray();
      assertEquals(ModelFeatures.gradientWidth(arch), actual.length);
      assertEquals(expected.length, actual.length);
      for (int j = 0; j < expected.length; j++) {
        assertEquals(
            expected[j],
            actual[j],
            1e-5 + 1e-4 * Math.abs(expected[j]),
            "example " + f.getLong(0) + " entry " + j);
      }
    }

    // group.normalize: the same vectors scaled to unit length (cosine k-means).
    List<Row> unit =
        KMeansGrouping.features(GroupMethod.KMEANS_GRAD, seed, true, data(rows, dim, 3, 2), spec)
            .collectAsList();
    assertEquals(rows.size(), unit.size());
    for (Row f : unit) {
      Row example = byId.get(f.getLong(0));
      double[] expected =
          bruteForceGradientFeature(net, pin, (float[]) example.get(2), example.getInt(1));
      double norm = Math.sqrt(java.util.Arrays.stream(expected).map(v -> v * v).sum());
      double[] actual = ((Vector) f.get(1)).toArray();
      for (int j = 0; j < expected.length; j++) {
        assertEquals(
            expected[j] / norm,
            actual[j],
            1e-4,
            "unit vector of example " + f.getLong(0) + " entry " + j);
      }
    }
  }

  @Test
  void twoLevelKMeansGivesAboutTheRequestedNumberOfGroups() {
    long requested = 300;
    assertTrue(KMeansGrouping.twoLevel(requested));
    List<Row> rows = randomRows(3000, 3, 3, 13, false);
    Groups groups =
        GroupingStage.assign(
            spark(),
            config(GroupMethod.KMEANS_INPUT, 64, (int) requested, 2),
            data(rows, 3, 3, 4),
            model(MLP3(), 1));

    System.out.println(
        "two-level k-means: " + groups.count() + " groups for " + requested + " requested");
    assertTrue(
        Math.abs(groups.count() - requested) <= 0.2 * requested, "groups: " + groups.count());
    Map<Long, Long> assigned = assignment(groups);
    assertEquals(3000, assigned.size());
    assertDense(assigned, groups.count());
  }

  static Stream<Arguments> deterministicSetups() {
    return Stream.of(
        Arguments.of(GroupMethod.RANDOM, null),
        Arguments.of(GroupMethod.KMEANS_INPUT, null),
        Arguments.of(GroupMethod.KMEANS_GRAD, null),
        Arguments.of(GroupMethod.KMEANS_INPUT, 300));
  }

  @ParameterizedTest
  @MethodSource("deterministicSetups")
  void assignmentDoesNotDependOnInputPartitioning(GroupMethod method, Integer count) {
    List<Row> rows = randomRows(1500, 4, 3, 14, false);
    TrainedModel model = model(MLP, 5);
    Groups one =
        GroupingStage.assign(spark(), config(method, 20, count, 8), data(rows, 4, 3, 1), model);
    Groups five =
        GroupingStage.assign(spark(), config(method, 20, count, 8), data(rows, 4, 3, 5), model);

    assertEquals(one.count(), five.count());
    Map<Long, Long> a = assignment(one);
    Map<Long, Long> b = assignment(five);
    assertEquals(a.keySet(), b.keySet());
    List<Long> differ =
        a.keySet().stream().filter(id -> !a.get(id).equals(b.get(id))).sorted().toList();
    assertTrue(
        differ.isEmpty(),
        differ.size()
            + " examples change group, e.g. "
            + differ.subList(0, Math.min(5, differ.size())));
    one.assignment().unpersist();
    five.assignment().unpersist();
  }

  @Test
  void statsMatchBruteForce() {
    List<Row> rows = randomRows(700, 4, 3, 15, false);
    TrainedModel model = model(MLP, 6);
    Groups groups =
        GroupingStage.assign(
            spark(), config(GroupMethod.RANDOM, 30, null, 4), data(rows, 4, 3, 3), model);
    Map<Long, Long> assigned = assignment(groups);

    // Brute force: labels and losses per group from a driver-side forward pass.
    Network net = model.finalNetwork();
    Map<Long, long[]> counts = new TreeMap<>();
    Map<Long, Double> lossSums = new HashMap<>();
    for (Row r : rows) {
      long g = assigned.get(r.getLong(0));
      counts.computeIfAbsent(g, k -> new long[3])[r.getInt(1)]++;
      lossSums.merge(g, crossEntropy(net, (float[]) r.get(2), r.getInt(1)), Double::sum);
    }

    List<Row> stats = groups.stats().collectAsList();
    assertEquals(groups.count(), stats.size());
    assertEquals(700L, stats.stream().mapToLong(s -> s.getAs(Columns.SIZE)).sum());
    for (Row s : stats) {
      long g = s.getAs(Columns.GROUP_ID);
      long[] expected = counts.get(g);
      assertNotNull(expected, "stats for unknown group " + g);
      List<Long> labelCounts = s.getList(s.fieldIndex(Columns.LABEL_COUNTS));
      assertEquals(LongStream.of(expected).boxed().toList(), labelCounts, "group " + g);
      long size = s.getAs(Columns.SIZE);
      assertEquals(LongStream.of(expected).sum(), size);
      assertEquals(argmax(expected), (int) s.getAs(Columns.MAJORITY_LABEL), "group " + g);
      assertEquals(lossSums.get(g) / size, (double) s.getAs(Columns.MEAN_LOSS), 1e-4, "group " + g);
    }
  }

  @Test
  void describeNamesMethodAndSizeOrCount() {
    assertEquals(
        "kmeans-grad, size 64",
        GroupingStage.describe(new GroupConfig(GroupMethod.KMEANS_GRAD, 64, null, 0, false, 0)));
    assertEquals(
        "random, 100 groups",
        GroupingStage.describe(new GroupConfig(GroupMethod.RANDOM, 64, 100, 0, false, 0)));
    assertEquals(
        "per-example (size 1)",
        GroupingStage.describe(new GroupConfig(GroupMethod.LABEL, 1, null, 0, false, 0)));
    assertEquals(
        "column",
        GroupingStage.describe(new GroupConfig(GroupMethod.COLUMN, 64, null, 0, false, 0)));
  }

  // ---- helpers

  private static Architecture MLP2() {
    return new Architecture(2, new int[] {4}, 3, ActivationKind.RELU);
  }

  private static Architecture MLP3() {
    return new Architecture(3, new int[] {4}, 3, ActivationKind.RELU);
  }

  private static void assertDense(Map<Long, Long> assigned, long count) {
    Set<Long> ids = new TreeSet<>(assigned.values());
    Set<Long> expected =
        LongStream.range(0, count).boxed().collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, ids);
  }

  private static Map<Long, Long> sizes(Map<Long, Long> assigned) {
    Map<Long, Long> sizes = new HashMap<>();
    assigned.values().forEach(g -> sizes.merge(g, 1L, Long::sum));
    return sizes;
  }

  private static int argmax(long[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double[] logitsOf(Network net, float[] x) {
    INDArray in = Nd4j.create(x, new long[] {1, x.length}, 'c');
    return net.logits(in)
        .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
        .dup()
        .data()
        .asDouble();
  }

  private static double[] softmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    double[] p = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      p[i] = Math.exp(z[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < z.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private static double crossEntropy(Network net, float[] x, int label) {
    return -Math.log(softmax(logitsOf(net, x))[label]);
  }

  /** (P_in^T a) ⊗ d for one example, with a loop over the outer product. */
  private static double[] bruteForceGradientFeature(
      Network net, Projection pin, float[] x, int label) {
    INDArray in = Nd4j.create(x, new long[] {1, x.length}, 'c');
    INDArray[] inputs = net.forward(in).layerInputs();
    INDArray a = inputs[inputs.length - 1];
    double[] pa =
        (pin == null ? a : pin.project(a))
            .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
            .dup()
            .data()
            .asDouble();
    double[] d = softmax(logitsOf(net, x));
    d[label] -= 1;
    double[] out = new double[pa.length * d.length];
    for (int j = 0; j < pa.length; j++) {
      for (int c = 0; c < d.length; c++) {
        out[j * d.length + c] = pa[j] * d[c];
      }
    }
    return out;
  }
}
