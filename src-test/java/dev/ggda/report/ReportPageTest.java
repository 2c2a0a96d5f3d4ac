package dev.ggda.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.report.ReportData.EfficiencyPoint;
import dev.ggda.report.ReportData.GroupScore;
import dev.ggda.report.ReportData.NoisePoint;
import dev.ggda.report.ReportData.NoiseSummary;
import dev.ggda.report.ReportData.PrunePoint;
import dev.ggda.report.ReportData.RankedGroup;
import dev.ggda.report.ReportData.RunSummary;
import dev.ggda.report.ReportData.TargetGroups;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * ReportPage without Spark: escaping, which sections appear, and that charts carry the input
 * numbers.
 */
class ReportPageTest {
  static final String HOSTILE =
      "</script><script>alert(1)</script><!-- \"'><img src=x onerror=alert(2)>&amp;";
  static final String LIBRARY = "/* chart library stand-in */";
  static final ObjectMapper JSON = new ObjectMapper();

  static RunSummary run(String hostile) {
    Map<String, Map<String, String>> facts = new LinkedHashMap<>();
    facts.put("counts", Map.of("train_rows", "1234", hostile, hostile));
    Map<String, String> runFacts = new LinkedHashMap<>();
    runFacts.put("efficiency_fidelity.protocol.seed_mode", "independent");
    runFacts.put("efficiency_fidelity.protocol.runs_per_subset", "5");
    runFacts.put("efficiency_fidelity.train_rows", "1234");
    facts.put("run", runFacts);
    Map<String, Double> stages = new LinkedHashMap<>();
    stages.put("load", 1.25);
    stages.put(hostile, 3.5);
    stages.put("train", 20.0);
    return new RunSummary(
        "run",
        "2026-11-28T10:00:00Z",
        "2026-11-28T10:01:00Z",
        "{\n  \"data\" : {\"train\" : {\"path\" : \"" + hostile.replace("\"", "\\\"") + "\"}}\n}",
        facts,
        stages);
  }

  /** Every section filled; {@code hostile} in every string the user or the data can set. */
  static ReportData full(String hostile) {
    List<EfficiencyPoint> eff =
        List.of(
            new EfficiencyPoint(
                "trak", hostile, 1, 60000, 1114.1, 1.0, 0.31, Double.NaN, Double.NaN),
            new EfficiencyPoint("trak", hostile, 64, 938, 63.0, 17.7, 0.27, 0.45, 0.12),
            new EfficiencyPoint(
                hostile, "random", 16, 3750, 162.2, 6.9, Double.NaN, 0.4, Double.NaN));
    List<PrunePoint> prune =
        List.of(
            new PrunePoint(0.2, "random", 0.85, 0.02, 3),
                new PrunePoint(0.0, "random", 0.88, 0.01, 3),
            new PrunePoint(0.0, hostile, 0.88, 0.01, 3),
                new PrunePoint(0.2, hostile, 0.9, 0.005, 3));
    List<NoisePoint> curve =
        List.of(
            new NoisePoint(hostile, 0.0, 0.0),
            new NoisePoint(hostile, 0.5, 0.8),
            new NoisePoint(hostile, 1.0, 1.0));
    GroupScore g =
        new GroupScore(
            7,
            0.125,
            64,
            3,
            new long[] {0, 2, 0, 60, 2},
            List.of(Thumbnails.pngDataUri(new float[] {0, 1, 0.5f, 0.25f})));
    GroupScore h = new GroupScore(9, -0.5, 32, 1, new long[] {0, 32, 0, 0, 0}, List.of());
    return ReportData.of(hostile, run(hostile))
        .withGroups(Histogram.of(new double[] {3, 4, 4, 7}, true, 40), 4)
        .withScores(
            Histogram.of(new double[] {-1, 0.5, 2}, false, 4),
            3,
            List.of(new TargetGroups(42, List.of(g), List.of(h), true)))
        .withGroupValues(
            List.of(new RankedGroup(7, 64, 2.5, 2.5 / 64, 1)),
            List.of(new RankedGroup(9, 32, -1, -1 / 32.0, 2)))
        .withEfficiency(eff)
        .withPrune(prune)
        .withNoise(curve, List.of(new NoiseSummary(hostile, 0.71, 0.44)));
  }

  static JsonNode charts(String html) throws Exception {
    Matcher m =
        Pattern.compile(
                "<script type=\"application/json\" id=\""
                    + ReportPage.CHART_DATA_ID
                    + "\">(.*?)</script>",
                Pattern.DOTALL)
            .matcher(html);
    assertTrue(m.find(), "no chart data element");
    return JSON.readTree(m.group(1));
  }

  static int occurrences(String haystack, String needle) {
    int n = 0;
    for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void hostileStringsStayTextInHtmlAndData() throws Exception {
    String html = ReportPage.render(full(HOSTILE), LIBRARY);
    String lower = html.toLowerCase();
    // Exactly the page's three script elements open and close; no comment opens; no injected tag.
    assertEquals(3, occurrences(lower, "<script"), "script elements");
    assertEquals(3, occurrences(lower, "</script"), "script ends");
    assertEquals(0, occurrences(html, "<!--"));
    assertEquals(0, occurrences(html, "<img src=x"));
    assertEquals(0, occurrences(html, "alert(1)</"));
    assertTrue(html.contains(Html.escape(HOSTILE)), "the escaped text is shown");
    assertTrue(html.contains("&amp;amp;"), "an entity in the data is shown literally, not decoded");
    // The chart data parses back to the exact strings.
    JsonNode charts = charts(html);
    assertEquals(HOSTILE, charts.at("/" + ReportPage.CHART_STAGES + "/yAxis/data/1").asText());
    List<String> names = new ArrayList<>();
    charts
        .at("/" + ReportPage.CHART_NOISE + "/series")
        .forEach(s -> names.add(s.get("name").asText()));
    assertEquals(List.of(HOSTILE), names);
  }

  /**
   * The user's group names (group.method column) are shown beside the ids, escaped, whatever they
   * hold.
   */
  @Test
  void groupKeysAreShownEscapedBesideTheIds() throws Exception {
    String key = "<script>alert('v')</script> \"Müller & Søn\" 東京";
    GroupScore named = new GroupScore(7, 0.125, 64, 3, new long[] {0, 64}, List.of(), key);
    GroupScore nullKey = new GroupScore(9, -0.5, 32, 1, new long[] {32, 0}, List.of(), null);
    ReportData data =
        ReportData.of("out/run", run("x"))
            .withScores(
                Histogram.of(new double[] {-1, 0.5}, false, 4),
                2,
                List.of(new TargetGroups(42, List.of(named), List.of(nullKey), true)))
            .withGroupValues(
                List.of(new RankedGroup(7, 64, 2.5, 2.5 / 64, 1, key)),
                List.of(new RankedGroup(9, 32, -1, -1 / 32.0, 2, null)));
    String html = ReportPage.render(data, LIBRARY);
    String escaped =
        "&lt;script&gt;alert(&#39;v&#39;)&lt;/script&gt; &quot;Müller &amp; Søn&quot; 東京";
    assertEquals(
        2,
        occurrences(html, "<td class=\"key\">" + escaped + "</td>"),
        "in the proponents and the values table");
    assertEquals(
        2,
        occurrences(html, "<td class=\"key null\">(null)</td>"),
        "a null value is its own group");
    assertEquals(0, occurrences(html, "<script>alert"));
    assertEquals(
        4, occurrences(html, "<th>group key</th>"), "every group table of a run with named groups");
    assertFalse(
        ReportPage.render(full("m"), LIBRARY).contains("group key"),
        "unnamed groups get no key column");
  }

  @Test
  void htmlEscapeCoversTheFiveSpecialCharacters() {
    assertEquals(
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
        Html.escape("<a href=\"x\" title='y'>&</a>"));
    assertEquals("", Html.escape(null));
    assertEquals(
        "var s = '<\\/script>'; var t = \"<\\/SCRIPT \";",
        Html.inlineScript("var s = '</script>'; var t = \"</SCRIPT \";"));
    String json = Html.scriptJson(Map.of("k", "</script><!--&\u2028"));
    assertFalse(
        json.contains("<") || json.contains(">") || json.contains("&") || json.contains("\u2028"),
        json);
  }

  @Test
  void aTrainOnlyRunShowsTheSummaryAndStagesOnly() throws Exception {
    String html = ReportPage.render(ReportData.of("out/run", run("x")), LIBRARY);
    assertTrue(html.contains("id=\"summary\""));
    assertTrue(html.contains("id=\"" + ReportPage.CHART_STAGES + "\""));
    for (String absent :
        List.of(
            "id=\"groups\"",
            "id=\"scores\"",
            "id=\"top-groups\"",
            "id=\"group-values\"",
            "id=\"efficiency\"",
            "id=\"prune\"",
            "id=\"noise\"")) {
      assertFalse(html.contains(absent), absent);
    }
    assertEquals(List.of(ReportPage.CHART_STAGES), fieldNames(charts(html)));
  }

  @Test
  void everySectionAppearsWithItsData() throws Exception {
    String html = ReportPage.render(full("m"), LIBRARY);
    for (String present :
        List.of(
            "id=\"summary\"",
            "id=\"groups\"",
            "id=\"scores\"",
            "id=\"top-groups\"",
            "id=\"group-values\"",
            "id=\"efficiency\"",
            "id=\"prune\"",
            "id=\"noise\"",
            "id=\"noise-table\"")) {
      assertTrue(html.contains(present), present);
    }
    assertEquals(
        List.of(
            ReportPage.CHART_STAGES,
            ReportPage.CHART_GROUP_SIZES,
            ReportPage.CHART_SCORES,
            ReportPage.CHART_EFFICIENCY,
            ReportPage.CHART_PRUNE,
            ReportPage.CHART_NOISE),
        fieldNames(charts(html)));
    // A noise summary without a curve: the table, no chart.
    String summaryOnly =
        ReportPage.render(
            ReportData.of("o", run("x"))
                .withNoise(List.of(), List.of(new NoiseSummary("loss", 0.5, 0.2))),
            LIBRARY);
    assertTrue(summaryOnly.contains("id=\"noise-table\""));
    assertFalse(summaryOnly.contains("id=\"" + ReportPage.CHART_NOISE + "\""));
  }

  @Test
  void chartsCarryTheInputNumbers() throws Exception {
    ReportData data = full("m");
    JsonNode charts = charts(ReportPage.render(data, LIBRARY));

    JsonNode stages = charts.get(ReportPage.CHART_STAGES);
    assertEquals(List.of("load", "m", "train"), texts(stages.at("/yAxis/data")));
    assertEquals(List.of(1.25, 3.5, 20.0), doubles(stages.at("/series/0/data")));

    JsonNode sizes = charts.get(ReportPage.CHART_GROUP_SIZES);
    assertEquals(List.of("3", "4", "5", "6", "7"), texts(sizes.at("/xAxis/data")));
    assertEquals(List.of(1.0, 2.0, 0.0, 0.0, 1.0), doubles(sizes.at("/series/0/data")));
    assertEquals(
        List.of(1.0, 0.0, 1.0, 1.0),
        doubles(charts.at("/" + ReportPage.CHART_SCORES + "/series/0/data")));

    // Efficiency: one series per method and measure; a NaN is left out of the chart, said in the
    // table.
    Map<String, List<List<Double>>> eff = new LinkedHashMap<>();
    charts
        .at("/" + ReportPage.CHART_EFFICIENCY + "/series")
        .forEach(
            s -> {
              List<List<Double>> pts = new ArrayList<>();
              s.get("data").forEach(p -> pts.add(doubles(p)));
              eff.put(s.get("name").asText(), pts);
            });
    assertEquals(List.of(List.of(6.9, 0.4, 16.0)), eff.get("m group LDS"));
    assertEquals(List.of(), eff.get("m LDS"));
    assertEquals(List.of(List.of(1.0, 0.31, 1.0), List.of(17.7, 0.27, 64.0)), eff.get("trak LDS"));
    assertEquals(List.of(List.of(17.7, 0.45, 64.0)), eff.get("trak group LDS"));
    String table = ReportPage.render(data, LIBRARY);
    assertTrue(
        table.contains(
            "<p class=\"note\" id=\"efficiency-protocol\">protocol: seed_mode independent, runs_per_subset 5</p>"),
        "the efficiency table says how its fidelity was measured");
    table = table.substring(table.indexOf("id=\"efficiency-table\""));
    assertEquals(4, occurrences(table.substring(0, table.indexOf("</table>")), "not measured"));

    // Prune: per strategy, a band at mean -/+ sd and the mean line, sorted by fraction.
    JsonNode prune = charts.at("/" + ReportPage.CHART_PRUNE + "/series");
    assertEquals("band", prune.at("/2/type").asText());
    assertEquals("random", prune.at("/3/name").asText());
    assertEquals(List.of(0.0, 0.88 - 0.01, 0.88 + 0.01), doubles(prune.at("/2/data/0")));
    assertEquals(List.of(0.2, 0.85 - 0.02, 0.85 + 0.02), doubles(prune.at("/2/data/1")));
    assertEquals(List.of(0.2, 0.85), doubles(prune.at("/3/data/1")));
    assertEquals(prune.at("/2/color"), prune.at("/3/color"), "a band has its line's colour");

    JsonNode noise = charts.at("/" + ReportPage.CHART_NOISE + "/series/0/data");
    assertEquals(List.of(0.5, 0.8), doubles(noise.get(1)));
  }

  @Test
  void topGroupTablesShowScoresLabelsAndThumbnails() {
    String html = ReportPage.render(full("m"), LIBRARY);
    String top =
        html.substring(html.indexOf("id=\"top-groups\""), html.indexOf("id=\"group-values\""));
    assertTrue(top.contains("<h3>target 42</h3>"));
    assertTrue(top.contains("<td class=\"n\">0.1250</td>"), "score");
    assertTrue(top.contains("<td>3: 60, 1: 2, 4: 2</td>"), "label counts, most frequent first");
    assertEquals(1, occurrences(top, "<img class=\"thumb\""));
    assertTrue(
        top.indexOf("proponents") < top.indexOf("group 7\"")
            && top.indexOf("group 7\"") < top.indexOf("opponents"));

    // With output.top_k the lowest scores are not in scores/: no opponent table, a note instead.
    GroupScore g = full("m").topGroups().get(0).proponents().get(0);
    String topK =
        ReportPage.render(
            ReportData.of("o", run("x"))
                .withScores(
                    Histogram.of(new double[] {1}, false, 4),
                    1,
                    List.of(new TargetGroups(3, List.of(g), List.of(), false))),
            LIBRARY);
    assertFalse(topK.contains("<table class=\"opponents\""));
    assertTrue(topK.contains("opponents unknown"));
  }

  @Test
  void histogramCountsEveryFiniteValueOnce() {
    SplittableRandom rnd = new SplittableRandom(7);
    double[] v = new double[1000];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextGaussian();
    }
    v[3] = Double.NaN;
    v[4] = Double.POSITIVE_INFINITY;
    Histogram h = Histogram.of(v, false, 17);
    long[] counts = h.counts();
    assertEquals(17, counts.length);
    assertEquals(998, h.total());
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      if (Double.isFinite(x)) {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    }
    double width = (max - min) / 17;
    for (int b = 0; b < 17; b++) {
      double left = min + b * width;
      double right = b == 16 ? Double.POSITIVE_INFINITY : min + (b + 1) * width;
      long n = 0;
      for (double x : v) {
        n += Double.isFinite(x) && x >= left && x < right ? 1 : 0;
      }
      assertEquals(n, counts[b], "bin " + b);
    }
    assertEquals(List.of("2", "3", "4"), Histogram.of(new double[] {2, 4, 4, 3}, true, 3).labels());
    assertArrayEquals(
        new long[] {1, 1, 2}, Histogram.of(new double[] {2, 4, 4, 3}, true, 3).counts());
    Histogram wide = Histogram.of(new double[] {2, 4, 4, 3, 9}, true, 3);
    assertArrayEquals(
        new long[] {4, 0, 1}, wide.counts(), "8 sizes in 3 bins: integer ranges of width 3");
    assertEquals(List.of("2\u20134", "5\u20137", "8\u201310"), wide.labels());
  }

  @Test
  void thumbnailsArePngsOfTheClampedGreyLevels() throws Exception {
    float[] px = {0f, 0.5f, 1f, 2f, -1f, 0.25f, 0.75f, 0.1f, Float.NaN};
    String uri = Thumbnails.pngDataUri(px);
    BufferedImage img =
        ImageIO.read(
            new ByteArrayInputStream(
                Base64.getDecoder().decode(uri.substring(uri.indexOf(',') + 1))));
    assertEquals(3, img.getWidth());
    int[] expected = {0, 128, 255, 255, 0, 64, 191, 26, 0};
    for (int i = 0; i < px.length; i++) {
      assertEquals(expected[i], img.getRaster().getSample(i % 3, i / 3, 0), "pixel " + i);
    }
    assertTrue(Thumbnails.isImage("idx", 784));
    assertFalse(Thumbnails.isImage("idx", 785));
    assertFalse(Thumbnails.isImage("parquet", 784));
  }

  @Test
  void runJsonIsFlattenedForDisplay() {
    RunSummary s =
        RunJson.parse(
            "{\"command\":\"group\",\"config\":{\"a\":1},\"counts\":{\"groups\":5},"
                + "\"metrics\":{\"train\":{\"accuracy\":0.5}},\"stage_seconds\":{\"load\":2.5,\"group\":1.0},\"damping_used\":0.01}");
    assertEquals("group", s.command());
    assertEquals(Map.of("groups", "5"), s.facts().get("counts"));
    assertEquals(Map.of("train.accuracy", "0.5"), s.facts().get("metrics"));
    assertEquals(Map.of("damping_used", "0.01"), s.facts().get("run"));
    assertEquals(List.of("load", "group"), List.copyOf(s.stageSeconds().keySet()));
    assertEquals(2.5, s.stageSeconds().get("load"));
  }

  @Test
  void theRealChartLibraryIsInlined() {
    String html = ReportPage.render(ReportData.of("o", run("x")));
    assertTrue(html.length() > 900_000, "ECharts' minified bundle is about 1 MB");
    assertTrue(html.contains("echarts"));
    assertFalse(html.contains("src=\"http"), "nothing is loaded from the network");
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return out;
  }

  private static List<Double> doubles(JsonNode array) {
    List<Double> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asDouble()));
    return out;
  }
}
