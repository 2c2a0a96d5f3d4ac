package dev.ggda.grouping;

import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.GroupMethod;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;

/** Tiny in-memory training sets, models and configs for the grouping tests. */
final class GroupingTestData {
  private GroupingTestData() {}

  static SparkSession spark() {
    return SparkTestSession.get();
  }

  /** A config with only the group section set (the stage reads nothing else). */
  static GgdaConfig config(GroupMethod method, int size, Integer count, long seed) {
    return new GgdaConfig(
        null,
        null,
        null,
        new GroupConfig(method, size, count, seed, false, 0),
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /**
   * One canonical row; group may be null (then the row has no group column at all unless
   * withGroup).
   */
  static Row row(long id, int label, float[] x, String group, boolean withGroup) {
    return withGroup ? RowFactory.create(id, label, x, group) : RowFactory.create(id, label, x);
  }

  /**
   * n rows with uniform features in [-1, 1), labels uniform in [0, classes), sparse
   * shuffled-looking ids (so dense ids are a real remapping), and a group column "g&lt;id mod
   * 9&gt;".
   */
  static List<Row> randomRows(int n, int dim, int classes, long seed, boolean withGroup) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long id = 1_000_003L * ((i * 7919L) % n) + 17;
      float[] x = new float[dim];
      for (int j = 0; j < dim; j++) {
        x[j] = (float) (2 * rnd.nextDouble() - 1);
      }
      rows.add(row(id, rnd.nextInt(classes), x, "g" + (id % 9), withGroup));
    }
    return rows;
  }

  /** Well-separated Gaussian blobs (centres 20 apart on the axes, sd 0.5); label = blob. */
  static List<Row> blobs(int perBlob, int blobs, int dim, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Row> rows = new ArrayList<>();
    long id = 0;
    for (int b = 0; b < blobs; b++) {
      for (int i = 0; i < perBlob; i++) {
        float[] x = new float[dim];
        for (int j = 0; j < dim; j++) {
          double centre = (j == b % dim ? 20.0 : 0.0) * (b >= dim ? -1 : 1);
          x[j] = (float) (centre + 0.5 * gaussian(rnd));
        }
        rows.add(row(id++ * 3 + 5, b, x, null, false));
      }
    }
    return rows;
  }

  static LoadedData data(List<Row> rows, int dim, int classes, int partitions) {
    boolean withGroup = rows.get(0).size() == 4;
    var df = spark().createDataFrame(rows, Columns.schema(withGroup)).repartition(partitions);
    return new LoadedData(df, dim, classes, rows.size());
  }

  static TrainedModel model(Architecture arch, long seed) {
    float[] params = Network.initialise(arch, seed, DataType.FLOAT).paramsAsFloats();
    return new TrainedModel(arch, 0.0, List.of(List.of(new Checkpoint(0, 0, 0, 0, 0.1, params))));
  }

  /** example_id → group_id, failing on a duplicated example. */
  static Map<Long, Long> assignment(Groups groups) {
    Map<Long, Long> out = new HashMap<>();
    for (Row r : groups.assignment().collectAsList()) {
      Long previous = out.put(r.getLong(0), r.getLong(1));
      if (previous != null) {
        throw new AssertionError("example " + r.getLong(0) + " assigned twice");
      }
    }
    return out;
  }

  private static double gaussian(SplittableRandom rnd) {
    return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble()))
        * Math.cos(2 * Math.PI * rnd.nextDouble());
  }
}
