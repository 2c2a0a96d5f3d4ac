package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ggda.cli.Main;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * incremental.store with k-means groups: the centres fitted on the first run stay put, every
 * example (old or new) is in the group of its nearest stored centre (checked by brute force on the
 * driver against the stored centres), only new files are assigned, the scores equal a full run's
 * that groups by the same centres as a column, and group.refit_every clusters again once the
 * centres served that many table versions, and not again when the same table is run again.
 */
class IncrementalKMeansTest {
  @TempDir static Path tmp;

  private static final int DIM = 4;
  private static final int CLASSES = 3;

  /** One day's rows, with ids unique over days; {@code centres} adds a "centre" column. */
  private static void writeDay(Path table, int day, int rows, Map<Long, String> centres) {
    SparkSession spark = SparkTestSession.get();
    Random rnd = new Random(300 + day);
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      int label = rnd.nextInt(CLASSES);
      List<Float> x = new ArrayList<>();
      for (int d = 0; d < DIM; d++) {
        x.add((float) ((d % CLASSES == label ? 2.0 : 0.0) + rnd.nextGaussian()));
      }
      long id = day * 1000L + i;
      out.add(
          centres == null
              ? RowFactory.create(id, label, x)
              : RowFactory.create(id, label, x, centres.get(id)));
    }
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    if (centres != null) {
      schema = schema.add("centre", DataTypes.StringType, false);
    }
    spark
        .createDataFrame(out, schema)
        .coalesce(1)
        .write()
        .mode("overwrite")
        .parquet(table.resolve("day=" + day).toString());
  }

  private static List<String> sets(Path table, Path out, String model, Path store) {
    List<String> s =
        new ArrayList<>(
            List.of(
                "data.train.path=" + table,
                "data.train.format=parquet",
                "data.targets.format=synthetic",
                "data.targets.synthetic.n=4",
                "data.targets.synthetic.dim=" + DIM,
                "data.targets.synthetic.classes=" + CLASSES,
                "data.targets.synthetic.seed=9",
                "data.classes=" + CLASSES,
                "model.kind=mlp",
                "model.hidden=[4]",
                "train.epochs=2",
                "train.checkpoints=2",
                "group.method=kmeans-input",
                "group.size=8",
                "attribute.method=tracin",
                "attribute.projection.dim=16",
                "output.path=" + out,
                "output.mode=overwrite"));
    if (model != null) {
      s.add("model.load=" + model);
    }
    if (store != null) {
      s.add("incremental.store=" + store);
    }
    return s;
  }

  private static JsonNode run(List<String> s, Path out) throws IOException {
    assertEquals(0, Main.execute(EndToEndTest.args("run", s)));
    return IncrementalRunTest.incremental(out);
  }

  /** The stored centres of one clustering at one level (0 coarse, 1 groups), in index order. */
  private static List<Row> centres(Path store, String clustering, int level) {
    return SparkTestSession.get()
        .read()
        .parquet(store.resolve("clusterings").resolve(clustering).resolve("centres").toString())
        .filter("level = " + level)
        .sort("id")
        .collectAsList();
  }

  private static double[] vec(Row r) {
    return r.getList(3).stream().mapToDouble(v -> (Double) v).toArray();
  }

  /**
   * Every example's group is a nearest stored centre of its unit-length input (kmeans-input with
   * group.normalize), within rounding of the minimum distance; with two levels, the nearest among
   * the groups of the nearest coarse centre. Returns example id to group key.
   */
  private static Map<Long, String> assertNearest(
      Path table, Path out, Path store, String clustering) {
    SparkSession spark = SparkTestSession.get();
    List<Row> fine = centres(store, clustering, 1);
    List<Row> coarse = centres(store, clustering, 0);
    Map<Long, String> key = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("groups").toString()).collectAsList()) {
      key.put(r.getAs("example_id"), r.getAs("group_key"));
    }
    int checked = 0;
    for (Row r : spark.read().parquet(table.toString()).collectAsList()) {
      long id = r.getAs("id");
      List<Float> f = r.getList(r.fieldIndex("features"));
      double norm = Math.sqrt(f.stream().mapToDouble(v -> (double) v * v).sum());
      double[] x = f.stream().mapToDouble(v -> v / norm).toArray();
      int nearCoarse = -1;
      double bestCoarse = Double.POSITIVE_INFINITY;
      for (Row c : coarse) {
        if (distance(x, vec(c)) < bestCoarse) {
          bestCoarse = distance(x, vec(c));
          nearCoarse = c.getInt(1);
        }
      }
      double best = Double.POSITIVE_INFINITY;
      for (Row c : fine) {
        if (coarse.isEmpty() || c.getInt(2) == nearCoarse) {
          best = Math.min(best, distance(x, vec(c)));
        }
      }
      String k = key.get(id);
      assertTrue(k.matches("c\\d+"), k);
      double chosen = distance(x, vec(fine.get(Integer.parseInt(k.substring(1)))));
      assertEquals(best, chosen, 1e-9, "example " + id + " is not in its nearest centre's group");
      checked++;
    }
    assertEquals(key.size(), checked, "every example assigned once");
    return key;
  }

  private static double distance(double[] x, double[] c) {
    double d = 0;
    for (int i = 0; i < x.length; i++) {
      d += (x[i] - c[i]) * (x[i] - c[i]);
    }
    return d;
  }

  @Test
  void centresStayPutNewRowsGoToTheNearestAndRefitEveryClustersAgain() throws IOException {
    Path table = tmp.resolve("table");
    Path store = tmp.resolve("store");
    writeDay(table, 1, 60, null);
    writeDay(table, 2, 50, null);
    Path trained = tmp.resolve("model");
    assertEquals(0, Main.execute(EndToEndTest.args("run", sets(table, trained, null, null))));
    String model = trained.resolve("model").toString();

    // Days 1-2: the centres are fitted (110 rows, size 8: about 14 groups), every row assigned.
    Path first = tmp.resolve("inc-1");
    JsonNode r1 = run(sets(table, first, model, store), first).get("clustering");
    String gen1 = r1.get("clustering").asText();
    assertTrue(r1.get("refit").asText().startsWith("no clustering stored"), r1::toString);
    int m1 = r1.get("centres").asInt();
    assertTrue(m1 >= 10 && m1 <= 14, "about round(110 / 8) centres, got " + m1);
    assertEquals(2, r1.get("files_assigned").asInt());
    assertEquals(110, r1.get("rows_assigned").asInt());
    assertEquals(m1, centres(store, gen1, 1).size());
    assertTrue(centres(store, gen1, 0).isEmpty(), "one level up to 256 groups");
    assertNearest(table, first, store, gen1);

    // Day 3: the same centres; only the new file's rows are assigned.
    writeDay(table, 3, 40, null);
    Path second = tmp.resolve("inc-2");
    JsonNode inc2 = run(sets(table, second, model, store), second);
    JsonNode r2 = inc2.get("clustering");
    assertEquals(gen1, r2.get("clustering").asText());
    assertFalse(r2.has("refit"), r2::toString);
    assertEquals(1, r2.get("files_assigned").asInt());
    assertEquals(2, r2.get("files_recorded").asInt());
    assertEquals(40, r2.get("rows_assigned").asInt());
    assertEquals(2, r2.get("table_versions").asInt());
    IncrementalRunTest.assertFiles(inc2, 1, 2, 0, "day 3");
    Map<Long, String> key = assertNearest(table, second, store, gen1);

    // A full run grouping by those centres as a column gives the same scores.
    Path copy = tmp.resolve("table-with-centres");
    for (int day = 1; day <= 3; day++) {
      writeDay(copy, day, day == 1 ? 60 : day == 2 ? 50 : 40, key);
    }
    Path full = tmp.resolve("full");
    List<String> s = sets(copy, full, model, null);
    s.addAll(List.of("group.method=column", "data.train.group_col=centre"));
    assertEquals(0, Main.execute(EndToEndTest.args("run", s)));
    IncrementalRunTest.assertSameScores(full, second, "stored centres");

    // Day 4 with refit_every 2: the centres served two table versions, so they are fitted again
    // and every file is featurized again under the new clustering; the same table again keeps them.
    writeDay(table, 4, 30, null);
    Path third = tmp.resolve("inc-3");
    List<String> refit = sets(table, third, model, store);
    refit.add("group.refit_every=2");
    JsonNode inc3 = run(refit, third);
    JsonNode r3 = inc3.get("clustering");
    assertTrue(r3.get("refit").asText().startsWith("group.refit_every: 2"), r3::toString);
    String gen2 = r3.get("clustering").asText();
    assertTrue(gen2.endsWith("gen-000002") && gen1.endsWith("gen-000001"), gen1 + " " + gen2);
    assertEquals(180, r3.get("fitted_on_rows").asInt());
    int m3 = r3.get("centres").asInt();
    assertTrue(m3 >= 16 && m3 <= 23, "about round(180 / 8) centres, got " + m3);
    IncrementalRunTest.assertFiles(inc3, 4, 0, 0, "refit");
    assertTrue(inc3.get("started_over").asText().contains("k-means centres"), inc3::toString);
    assertNearest(table, third, store, gen2);

    Path again = tmp.resolve("inc-4");
    JsonNode r4 =
        run(refit.stream().map(x -> x.replace(third.toString(), again.toString())).toList(), again)
            .get("clustering");
    assertEquals(gen2, r4.get("clustering").asText());
    assertFalse(r4.has("refit"), "a rerun over the same table version does not count again");
    assertEquals(0, r4.get("files_assigned").asInt());
    try (Stream<Path> gens = Files.list(store.resolve("clusterings").resolve(gen2).getParent())) {
      assertEquals(2, gens.count());
    }
  }

  @Test
  void twoLevelCentresAssignThroughTheNearestCoarseCentre() throws IOException {
    Path table = tmp.resolve("table-2l");
    Path store = tmp.resolve("store-2l");
    writeDay(table, 1, 400, null);
    writeDay(table, 2, 300, null);
    Path trained = tmp.resolve("model-2l");
    List<String> train = sets(table, trained, null, null);
    train.add("group.method=random");
    assertEquals(0, Main.execute(EndToEndTest.args("run", train)));
    String model = trained.resolve("model").toString();
    Path first = tmp.resolve("inc-2l-1");
    List<String> s = sets(table, first, model, store);
    s.add("group.count=300");
    String gen = run(s, first).get("clustering").get("clustering").asText();
    int coarse = centres(store, gen, 0).size();
    assertTrue(coarse >= 10 && coarse <= 18, "about sqrt(300) coarse centres, got " + coarse);
    assertNearest(table, first, store, gen);
    writeDay(table, 3, 200, null);
    Path second = tmp.resolve("inc-2l-2");
    JsonNode r =
        run(s.stream().map(x -> x.replace(first.toString(), second.toString())).toList(), second)
            .get("clustering");
    assertEquals(gen, r.get("clustering").asText());
    assertEquals(200, r.get("rows_assigned").asInt());
    assertNearest(table, second, store, gen);
  }
}
