package dev.ggda.evaluation;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.LrSchedule;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.testing.Reference;
import dev.ggda.testing.SparkTestSession;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retraining engine: each result is exactly the model SGD trains on the spec's rows with the
 * spec's seed (checked against the trainer called directly, and its margins and losses against a
 * float64 evaluation written out here), results come back in spec order whatever order the parallel
 * tasks finish in, and stored results are reused only for the same rows and seed.
 */
class RetrainerTest {
  static final Architecture ARCH = Architecture.logistic(5, 3);
  static final TrainConfig RECIPE =
      new TrainConfig(3, 16, 0.2, LrSchedule.LINEAR, 2, 1, 1.0, 0, TrainMode.LOCAL);

  static LocalData data(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] ids = new long[n];
    int[] y = new int[n];
    float[] x = new float[n * 5];
    for (int i = 0; i < n; i++) {
      ids[i] = 10L * i + 3;
      y[i] = r.nextInt(3);
      for (int d = 0; d < 5; d++) {
        x[i * 5 + d] = (float) (r.nextGaussian() + (d == y[i] ? 1.5 : 0));
      }
    }
    return new LocalData(ids, y, x, 5);
  }

  @Test
  void resultsEqualDirectTrainingAndAFloat64Evaluation(@TempDir Path dir) throws Exception {
    LocalData train = data(120, 1);
    LocalData eval = data(15, 2);
    List<RetrainSpec> specs = new ArrayList<>();
    for (int j = 0; j < 5; j++) {
      specs.add(new RetrainSpec("s" + j, Subsets.sample(120, 60, 9, j), 100 + j));
    }
    List<String> log = new ArrayList<>();
    Retrainer retrainer = new Retrainer(SparkTestSession.get(), ARCH, RECIPE, 1e-3).log(log::add);
    List<RetrainResult> results = retrainer.run(train, eval, specs, dir.toString());
    assertEquals(5, results.size());
    for (int j = 0; j < 5; j++) {
      RetrainSpec spec = specs.get(j);
      assertEquals(spec.id(), results.get(j).id());
      TrainConfig seeded =
          new TrainConfig(3, 16, 0.2, LrSchedule.LINEAR, 2, 1, 1.0, spec.seed(), TrainMode.LOCAL);
      var cps =
          new LocalTrainer(ARCH, seeded, 1e-3)
              .trainMember(
                  new TrainingData(train.features(), train.labels(), 5), spec.rows(), 0, null);
      float[] theta = cps.get(cps.size() - 1).params();
      double lossSum = 0;
      int correct = 0;
      for (int i = 0; i < eval.size(); i++) {
        double[] z = logits(theta, eval.row(i));
        int y = eval.labels()[i];
        double lseOthers = Reference.logSumExp(z, y);
        double lseAll = Reference.logSumExp(z, -1);
        assertEquals(
            z[y] - lseOthers, results.get(j).margins()[i], 2e-4, "margin of eval row " + i);
        assertEquals(lseAll - z[y], results.get(j).losses()[i], 2e-4, "loss of eval row " + i);
        lossSum += lseAll - z[y];
        int arg = 0;
        for (int c = 1; c < 3; c++) {
          arg = z[c] > z[arg] ? c : arg;
        }
        correct += arg == y ? 1 : 0;
      }
      assertEquals(lossSum / eval.size(), results.get(j).meanLoss(), 1e-4);
      assertEquals((double) correct / eval.size(), results.get(j).accuracy(), 0);
    }
    assertNotEquals(results.get(0).meanLoss(), results.get(1).meanLoss());
    try (var files = Files.list(dir)) {
      assertEquals(5, files.filter(f -> f.getFileName().toString().endsWith(".bin")).count());
    }

    // A second call reuses every stored result; a spec with other rows under a stored id is
    // retrained.
    log.clear();
    List<RetrainSpec> again = new ArrayList<>(specs);
    again.set(4, new RetrainSpec("s4", Subsets.sample(120, 60, 9, 77), 104));
    List<RetrainResult> second = retrainer.run(train, eval, again, dir.toString());
    assertTrue(log.get(0).contains("4 of 5 retrainings reused"), log.toString());
    for (int j = 0; j < 4; j++) {
      assertArrayEquals(results.get(j).margins(), second.get(j).margins(), 0);
    }
    assertTrue(!java.util.Arrays.equals(results.get(4).margins(), second.get(4).margins()));
  }

  /**
   * The distributed path: each retraining is the distributed trainer run on exactly the spec's rows
   * (checked against the trainer on a table holding only those rows), and stored results are
   * reused.
   */
  @Test
  void distributedRetrainingTrainsOnExactlyTheSpecRows(@TempDir Path dir) {
    LocalData train = data(90, 3);
    LocalData eval = data(10, 4);
    TrainConfig recipe =
        new TrainConfig(2, 16, 0.2, LrSchedule.CONSTANT, 1, 1, 1.0, 0, TrainMode.DISTRIBUTED);
    RetrainSpec spec = new RetrainSpec("d0", Subsets.sample(90, 40, 5, 0), 42);
    Retrainer retrainer = new Retrainer(SparkTestSession.get(), ARCH, recipe, 1e-3);
    var data = loaded(train, 3);
    var positions = Positions.of(SparkTestSession.get(), data.examples());
    RetrainResult r =
        retrainer.runDistributed(data, positions, eval, List.of(spec), dir.toString()).get(0);

    TrainConfig seeded =
        new TrainConfig(2, 16, 0.2, LrSchedule.CONSTANT, 1, 1, 1.0, 42, TrainMode.DISTRIBUTED);
    var model =
        new dev.ggda.training.DistributedTrainer(ARCH, seeded, 1e-3)
            .train(loaded(train.select(spec.rows()), 2), (f, a) -> {});
    RetrainResult direct =
        Retrainer.evaluate(
            spec,
            dev.ggda.math.Network.fromFloats(ARCH, model.finalCheckpoint(0).params()),
            eval.features(),
            eval.labels(),
            5);
    assertArrayEquals(direct.margins(), r.margins(), 1e-5f);
    assertEquals(direct.accuracy(), r.accuracy(), 0);

    List<String> log = new ArrayList<>();
    RetrainResult again =
        retrainer
            .log(log::add)
            .runDistributed(data, positions, eval, List.of(spec), dir.toString())
            .get(0);
    assertArrayEquals(r.margins(), again.margins(), 0);
    assertTrue(log.get(0).contains("1 of 1 retrainings reused"), log.toString());
  }

  /**
   * The distributed path never collects ids: positions are ranks computed on the executors, and the
   * group index built from them equals the driver-side one (position i is the i-th smallest id).
   */
  @Test
  void positionsAndGroupIndexOnTheExecutorsMatchTheDriverSide() {
    LocalData train = data(90, 6);
    var data = loaded(train, 3);
    var positions = Positions.of(SparkTestSession.get(), data.examples());
    var groups =
        data.examples()
            .select(
                col("example_id"), pmod(col("example_id").multiply(31), lit(7L)).as("group_id"));
    EvaluationStage.GroupIndex local = EvaluationStage.GroupIndex.of(train.ids(), groups);
    EvaluationStage.GroupIndex distributed = EvaluationStage.GroupIndex.of(90, positions, groups);
    for (int i = 0; i < 90; i++) {
      assertEquals(
          Math.floorMod(train.ids()[i] * 31, 7L),
          distributed.groupIds[distributed.groupOf[i]],
          "position " + i);
    }
    assertArrayEquals(local.groupIds, distributed.groupIds);
    assertArrayEquals(local.sizes, distributed.sizes);
    assertArrayEquals(local.groupOf, distributed.groupOf);
    int[] rows = Subsets.sample(90, 25, 3, 0);
    var kept =
        JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext()).broadcast(rows);
    long[] selected =
        Positions.select(data.examples(), positions, kept)
            .select("example_id")
            .collectAsList()
            .stream()
            .mapToLong(r -> r.getLong(0))
            .sorted()
            .toArray();
    assertArrayEquals(
        java.util.Arrays.stream(rows).mapToLong(i -> train.ids()[i]).toArray(), selected);
    positions.unpersist();
  }

  private static dev.ggda.data.LoadedData loaded(LocalData d, int partitions) {
    List<org.apache.spark.sql.Row> rows = new ArrayList<>();
    for (int i = 0; i < d.size(); i++) {
      Float[] boxed = new Float[d.dim()];
      for (int k = 0; k < d.dim(); k++) {
        boxed[k] = d.features()[i * d.dim() + k];
      }
      rows.add(org.apache.spark.sql.RowFactory.create(d.ids()[i], d.labels()[i], boxed));
    }
    var df =
        SparkTestSession.get()
            .createDataFrame(rows, dev.ggda.data.Columns.schema(false))
            .repartition(partitions);
    return new dev.ggda.data.LoadedData(df, d.dim(), 3, d.size());
  }

  /** theta layout: W (in x out, row-major) then b, as Network stores a dense layer. */
  private static double[] logits(float[] theta, float[] x) {
    double[] z = new double[3];
    for (int c = 0; c < 3; c++) {
      double s = theta[5 * 3 + c];
      for (int d = 0; d < 5; d++) {
        s += (double) x[d] * theta[d * 3 + c];
      }
      z[c] = s;
    }
    return z;
  }
}
