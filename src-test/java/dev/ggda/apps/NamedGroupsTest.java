package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.report.Html;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups keep the user's names (group.method column): every group-level table carries group_key,
 * the report shows it escaped, and prune and detect-noise name the groups they drop or flag. The
 * names are hostile on purpose: markup, quotes, commas, non-ASCII and a null value.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NamedGroupsTest {
  static final List<String> SOURCES =
      List.of(
          "<script>alert(1)</script>",
          "vendor \"A\", 'west'",
          "Müller & Søn / 東京",
          "shard-07",
          "&amp;");
  @TempDir static Path tmp;
  Path input;

  /** example_id -> the source the input gives it (null for every 13th example). */
  final Map<Long, String> sourceOf = new HashMap<>();

  @BeforeAll
  void writeInput() {
    SparkSession spark = SparkTestSession.get();
    input = tmp.resolve("input.parquet");
    Column source =
        functions
            .when(
                functions.col("example_id").mod(13).equalTo(0), functions.lit(null).cast("string"))
            .otherwise(
                functions.element_at(
                    functions.array(SOURCES.stream().map(functions::lit).toArray(Column[]::new)),
                    functions.col("example_id").mod(SOURCES.size()).plus(1).cast("int")));
    AppsEndToEndTest.loadSynthetic(spark)
        .examples()
        .select(
            functions.col("example_id").as("id"),
            functions.col("label"),
            functions.col("features"),
            source.as("source"))
        .repartition(3)
        .write()
        .parquet(input.toString());
    for (Row r : spark.read().parquet(input.toString()).select("id", "source").collectAsList()) {
      sourceOf.put(r.getLong(0), r.isNullAt(1) ? null : r.getString(1));
    }
  }

  private List<String> sets(Path out) {
    List<String> sets = AppsEndToEndTest.synthetic(out.toString());
    sets.removeIf(s -> s.startsWith("data.train."));
    sets.addAll(
        List.of(
            "data.train.path=" + input,
            "data.train.format=parquet",
            "data.train.group_col=source",
            "group.method=column",
            "attribute.projection.dim=16"));
    return sets;
  }

  /** group_id -> group_key of a table, checking that each id has one key. */
  private static Map<Long, String> keys(Dataset<Row> table) {
    Map<Long, String> m = new HashMap<>();
    for (Row r :
        table
            .select(functions.col("group_id").cast("long"), functions.col("group_key"))
            .collectAsList()) {
      String prior = m.put(r.getLong(0), r.isNullAt(1) ? null : r.getString(1));
      assertTrue(
          prior == null || prior.equals(m.get(r.getLong(0))),
          "group " + r.getLong(0) + " has two keys");
    }
    return m;
  }

  @Test
  void pruneWritesTheNamesInEveryGroupTableTheReportAndWhatItDrops() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("prune");
    StringBuilder console = new StringBuilder();
    assertEquals(0, AppsEndToEndTest.cli("prune", sets(out), console), console::toString);

    // groups/: every example's key is the input's source value.
    Map<Long, String> byGroup = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("groups").toString()).collectAsList()) {
      String key =
          r.isNullAt(r.fieldIndex("group_key")) ? null : r.getString(r.fieldIndex("group_key"));
      assertEquals(sourceOf.get(r.getLong(0)), key, "example " + r.getLong(0));
      byGroup.put(r.getLong(r.fieldIndex("group_id")), key);
    }
    Set<String> expected = new HashSet<>(SOURCES);
    expected.add(null);
    assertEquals(
        expected, new HashSet<>(byGroup.values()), "one group per source value, null included");
    for (String table :
        List.of("group_stats", "group_values", "self_influence", "prune/kept_groups")) {
      Map<Long, String> k = keys(spark.read().parquet(out.resolve(table).toString()));
      k.forEach((id, key) -> assertEquals(byGroup.get(id), key, table + " group " + id));
      if (!table.startsWith("prune")) {
        assertEquals(byGroup.keySet(), k.keySet(), table + " covers every group");
      }
    }
    Map<Long, String> dropped =
        keys(spark.read().parquet(out.resolve("prune/dropped_groups").toString()));
    assertFalse(dropped.isEmpty(), "something was dropped");
    dropped.forEach((id, key) -> assertEquals(byGroup.get(id), key, "dropped group " + id));

    JsonNode manifest = new ObjectMapper().readTree(out.resolve("prune/manifest.json").toFile());
    JsonNode ids = manifest.get("dropped_group_ids");
    JsonNode keys = manifest.get("dropped_group_keys");
    assertEquals(ids.size(), keys.size());
    for (int i = 0; i < ids.size(); i++) {
      assertEquals(
          byGroup.get(ids.get(i).asLong()), keys.get(i).isNull() ? null : keys.get(i).asText());
    }
    String line =
        console
            .toString()
            .lines()
            .filter(l -> l.startsWith("ggda: prune: dropped (most harmful first): "))
            .findFirst()
            .orElseThrow(() -> new AssertionError(console.toString()));
    long first = ids.get(0).asLong();
    String name =
        (byGroup.get(first) == null ? "null" : "'" + byGroup.get(first) + "'")
            + " (group "
            + first
            + ")";
    assertTrue(line.contains(name), name + " missing from: " + line);

    String html = Files.readString(out.resolve("report.html"));
    for (String s : SOURCES) {
      assertTrue(
          html.contains("<td class=\"key\">" + Html.escape(s) + "</td>"), "report lacks " + s);
    }
    assertFalse(html.contains("<script>alert(1)"), "a group name became markup");
  }

  @Test
  void detectNoiseNamesTheGroupsItFlags() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path out = tmp.resolve("noise");
    StringBuilder console = new StringBuilder();
    assertEquals(0, AppsEndToEndTest.cli("detect-noise", sets(out), console), console::toString);
    Dataset<Row> ranked = spark.read().parquet(out.resolve("noise/ranked_groups").toString());
    Map<Long, String> byGroup = keys(spark.read().parquet(out.resolve("group_stats").toString()));
    keys(ranked).forEach((id, key) -> assertEquals(byGroup.get(id), key, "ranked group " + id));
    Row top = ranked.orderBy("rank").select("group_id", "group_key").first();
    String name =
        top.isNullAt(1)
            ? "null (group " + top.getLong(0) + ")"
            : "'" + top.getString(1) + "' (group " + top.getLong(0) + ")";
    String line =
        console
            .toString()
            .lines()
            .filter(l -> l.startsWith("ggda: detect-noise: most suspicious: "))
            .findFirst()
            .orElseThrow(() -> new AssertionError(console.toString()));
    assertTrue(line.startsWith("ggda: detect-noise: most suspicious: " + name), line);
    Dataset<Row> examples = spark.read().parquet(out.resolve("noise/ranked_examples").toString());
    for (Row r : examples.select("example_id", "group_key").collectAsList()) {
      assertTrue(
          Objects.equals(sourceOf.get(r.getLong(0)), r.isNullAt(1) ? null : r.getString(1)),
          "example " + r.getLong(0));
    }
  }
}
