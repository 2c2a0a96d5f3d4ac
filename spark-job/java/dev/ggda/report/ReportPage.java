package dev.ggda.report;

import dev.ggda.report.ReportData.EfficiencyPoint;
import dev.ggda.report.ReportData.GroupScore;
import dev.ggda.report.ReportData.NoisePoint;
import dev.ggda.report.ReportData.NoiseSummary;
import dev.ggda.report.ReportData.PrunePoint;
import dev.ggda.report.ReportData.RankedGroup;
import dev.ggda.report.ReportData.TargetGroups;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders report.html from plain values: one self-contained page (Apache ECharts inlined, images as
 * data URIs) that needs no network to view. Every string that comes from the user or the data goes
 * through {@link Html#escape}; chart data travels as JSON in a non-executed script element ({@link
 * Html#scriptJson}) that the page's own script parses and hands to ECharts.
 *
 * <p>After drawing, the page sets {@code data-rendered="ok"} on the body (or {@code "error"} with
 * the messages in {@code data-errors}), so a headless browser can tell whether every chart drew.
 */
public final class ReportPage {
  /** Where the webjar puts the ECharts bundle (org.webjars.npm:echarts). */
  public static final String ECHARTS_RESOURCE =
      "/META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";

  /** ECharts' default palette, named here so a band and its line share a colour. */
  private static final String[] PALETTE = {
    "#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4",
    "#ea7ccc"
  };

  /** Element ids of the charts, for tests and for anyone styling the page. */
  public static final String CHART_STAGES = "chart-stages";

  public static final String CHART_GROUP_SIZES = "chart-group-sizes";
  public static final String CHART_SCORES = "chart-scores";
  public static final String CHART_EFFICIENCY = "chart-efficiency";
  public static final String CHART_PRUNE = "chart-prune";
  public static final String CHART_NOISE = "chart-noise";

  /** Id of the script element holding every chart's ECharts option, keyed by chart id. */
  public static final String CHART_DATA_ID = "ggda-charts";

  private static final String STYLE =
      """
      body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}
      h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
      table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
      td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
      td.n{text-align:right;font-variant-numeric:tabular-nums}
      .chart{width:100%;height:340px}
      .facts{display:flex;flex-wrap:wrap;gap:1.5em}
      pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:28em}
      img.thumb{width:36px;height:36px;image-rendering:pixelated;border:1px solid #ccc;margin-right:2px}
      .note{color:#666;font-size:.9em}
      """;

  private ReportPage() {}

  /** The page, with the ECharts bundle read from the classpath. */
  public static String render(ReportData data) {
    return render(data, echartsJs());
  }

  /**
   * The page with the given chart library source inlined (tests pass a stub to look at the markup
   * only).
   */
  static String render(ReportData data, String chartLibrary) {
    Map<String, Object> charts = new LinkedHashMap<>();
    StringBuilder body = new StringBuilder();
    summary(body, charts, data);
    groups(body, charts, data);
    scores(body, charts, data);
    boolean named = namedGroups(data);
    topGroups(body, data.topGroups(), named);
    groupValues(body, data.topValues(), data.bottomValues(), named);
    efficiency(body, charts, data.efficiency(), protocol(data.run()));
    prune(body, charts, data.prune());
    noise(body, charts, data.noiseCurve(), data.noiseSummary());

    StringBuilder page = new StringBuilder(chartLibrary.length() + body.length() + 4096);
    page.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>ggda report: ")
        .append(Html.escape(data.outputPath()))
        .append("</title>\n")
        .append("<style>")
        .append(STYLE)
        .append("</style>\n</head>\n<body>\n")
        .append("<h1>ggda report</h1>\n")
        .append("<p>Output folder <code>")
        .append(Html.escape(data.outputPath()))
        .append("</code></p>\n")
        .append(body)
        .append("<script type=\"application/json\" id=\"")
        .append(CHART_DATA_ID)
        .append("\">")
        .append(Html.scriptJson(charts))
        .append("</script>\n")
        .append("<script>\n")
        .append(Html.inlineScript(chartLibrary))
        .append("\n</script>\n")
        .append("<script>\n")
        .append(DRAW)
        .append("</script>\n")
        .append("</body>\n</html>\n");
    return page.toString();
  }

  /**
   * Draws every chart, each in its own try so one failure does not hide the others. A series of
   * type "band" ([x, low, high] points) becomes a filled polygon between low and high (error
   * bands).
   */
  private static final String DRAW =
      """
      (function () {
        function band(s) {
          var pts = s.data.filter(function (p) { return p[1] !== null && p[2] !== null; });
          return {
            type: 'custom', name: s.name, silent: true, z: 1, data: pts, encode: {x: 0, y: [1, 2]},
            tooltip: {show: false},
            renderItem: function (params, api) {
              if (params.dataIndex !== 0) { return null; }
              var upper = [], lower = [];
              pts.forEach(function (p) {
                upper.push(api.coord([p[0], p[2]]));
                lower.unshift(api.coord([p[0], p[1]]));
              });
              return {type: 'polygon', shape: {points: upper.concat(lower)}, style: {fill: s.color, opacity: 0.2}};
            }
          };
        }
        var errors = [];
        var specs = {};
        try {
          specs = JSON.parse(document.getElementById('%s').textContent);
        } catch (e) { errors.push('chart data: ' + e.message); }
        var ids = Object.keys(specs);
        ids.forEach(function (id) {
          try {
            if (typeof echarts === 'undefined') { throw new Error('the chart library did not load'); }
            var spec = specs[id];
            spec.series = spec.series.map(function (s) { return s.type === 'band' ? band(s) : s; });
            var chart = echarts.init(document.getElementById(id), null, {renderer: 'svg'});
            chart.setOption(spec);
            window.addEventListener('resize', function () { chart.resize(); });
          } catch (e) { errors.push(id + ': ' + e.message); }
        });
        document.body.dataset.charts = String(ids.length);
        if (errors.length) { document.body.dataset.errors = errors.join('; '); }
        document.body.dataset.rendered = errors.length ? 'error' : 'ok';
      })();
      """
          .formatted(CHART_DATA_ID);

  // ---- sections

  private static void summary(StringBuilder b, Map<String, Object> charts, ReportData data) {
    ReportData.RunSummary run = data.run();
    b.append("<h2 id=\"summary\">Run summary</h2>\n<table>\n");
    row(b, "command", run.command());
    row(b, "started", run.started());
    row(b, "finished", run.finished());
    b.append("</table>\n<div class=\"facts\">\n");
    run.facts()
        .forEach(
            (section, facts) -> {
              b.append("<table class=\"facts-")
                  .append(Html.escape(section))
                  .append("\"><tr><th colspan=\"2\">")
                  .append(Html.escape(section))
                  .append("</th></tr>\n");
              facts.forEach((k, v) -> row(b, k, v));
              b.append("</table>\n");
            });
    b.append("</div>\n");
    if (!run.configJson().isEmpty()) {
      b.append("<details><summary>Configuration as resolved</summary><pre id=\"config\">")
          .append(Html.escape(run.configJson()))
          .append("</pre></details>\n");
    }
    if (!run.stageSeconds().isEmpty()) {
      double total =
          run.stageSeconds().values().stream()
              .filter(Double::isFinite)
              .mapToDouble(Double::doubleValue)
              .sum();
      b.append("<h2 id=\"stages\">Stage timings</h2>\n<p>")
          .append(
              String.format(Locale.ROOT, "%.1f s in %d stages", total, run.stageSeconds().size()))
          .append("</p>\n");
      chartDiv(b, CHART_STAGES);
      List<Object> seconds = new ArrayList<>();
      run.stageSeconds().values().forEach(s -> seconds.add(number(s)));
      charts.put(
          CHART_STAGES,
          obj(
              "animation", false,
              "tooltip", obj("trigger", "axis"),
              "grid", obj("containLabel", true, "left", 10, "right", 30),
              "xAxis",
                  obj("type", "value", "name", "seconds", "nameLocation", "middle", "nameGap", 28),
              "yAxis",
                  obj(
                      "type",
                      "category",
                      "inverse",
                      true,
                      "data",
                      List.copyOf(run.stageSeconds().keySet()),
                      "axisLabel",
                      obj("width", 240, "overflow", "truncate")),
              "series", List.of(obj("type", "bar", "name", "seconds", "data", seconds))));
    }
  }

  private static void groups(StringBuilder b, Map<String, Object> charts, ReportData data) {
    if (data.groupSizes() == null) {
      return;
    }
    b.append("<h2 id=\"groups\">Group sizes</h2>\n<p>")
        .append(String.format(Locale.ROOT, "%,d groups", data.groupCount()))
        .append("</p>\n");
    chartDiv(b, CHART_GROUP_SIZES);
    charts.put(CHART_GROUP_SIZES, histogramChart(data.groupSizes(), "group size", "groups"));
  }

  private static void scores(StringBuilder b, Map<String, Object> charts, ReportData data) {
    if (data.scores() == null) {
      return;
    }
    b.append("<h2 id=\"scores\">Score distribution</h2>\n<p>")
        .append(
            String.format(
                Locale.ROOT,
                "%,d (target, group) scores; score &gt; 0: the group is a proponent of the target",
                data.scoreCount()))
        .append("</p>\n");
    chartDiv(b, CHART_SCORES);
    charts.put(CHART_SCORES, histogramChart(data.scores(), "score", "pairs"));
  }

  private static Map<String, Object> histogramChart(Histogram h, String xName, String yName) {
    List<Long> counts = new ArrayList<>();
    for (long c : h.counts()) {
      counts.add(c);
    }
    return obj(
        "animation", false,
        "tooltip", obj("trigger", "axis"),
        "grid", obj("containLabel", true, "left", 10, "right", 30),
        "xAxis",
            obj(
                "type",
                "category",
                "name",
                xName,
                "nameLocation",
                "middle",
                "nameGap",
                30,
                "data",
                h.labels()),
        "yAxis", obj("type", "value", "name", yName),
        "series",
            List.of(obj("type", "bar", "name", yName, "barCategoryGap", "8%", "data", counts)));
  }

  /**
   * Whether the groups carry the user's names (group.method column): then every group table gets a
   * key column, where the group of the null value shows as "(null)".
   */
  private static boolean namedGroups(ReportData data) {
    return data.topGroups().stream()
            .flatMap(
                t ->
                    java.util.stream.Stream.concat(t.proponents().stream(), t.opponents().stream()))
            .anyMatch(g -> g.groupKey() != null)
        || java.util.stream.Stream.concat(data.topValues().stream(), data.bottomValues().stream())
            .anyMatch(v -> v.groupKey() != null);
  }

  private static void topGroups(StringBuilder b, List<TargetGroups> targets, boolean named) {
    if (targets.isEmpty()) {
      return;
    }
    b.append("<h2 id=\"top-groups\">Top proponent and opponent groups</h2>\n");
    for (TargetGroups t : targets) {
      b.append("<h3>target ").append(t.targetId()).append("</h3>\n<div class=\"facts\">\n");
      groupScoreTable(b, "proponents", t.proponents(), named);
      if (t.opponentsKnown()) {
        groupScoreTable(b, "opponents", t.opponents(), named);
      } else {
        b.append(
            "<p class=\"note\">opponents unknown: scores/ keeps only the highest scores per target (output.top_k)</p>\n");
      }
      b.append("</div>\n");
    }
  }

  private static void groupScoreTable(
      StringBuilder b, String kind, List<GroupScore> rows, boolean named) {
    boolean thumbs = rows.stream().anyMatch(r -> !r.thumbnails().isEmpty());
    b.append("<table class=\"")
        .append(kind)
        .append("\"><tr><th colspan=\"")
        .append(5 + (thumbs ? 1 : 0) + (named ? 1 : 0))
        .append("\">")
        .append(kind)
        .append("</th></tr>\n<tr><th>group</th>")
        .append(named ? "<th>group key</th>" : "")
        .append("<th>score</th><th>size</th><th>majority label</th>")
        .append("<th>label counts</th>")
        .append(thumbs ? "<th>members</th>" : "")
        .append("</tr>\n");
    for (GroupScore g : rows) {
      b.append("<tr><td class=\"n\">")
          .append(g.groupId())
          .append("</td>")
          .append(named ? keyCell(g.groupKey()) : "")
          .append("<td class=\"n\">")
          .append(fmt(g.score()))
          .append("</td><td class=\"n\">")
          .append(g.size() < 0 ? "" : String.valueOf(g.size()))
          .append("</td><td class=\"n\">")
          .append(g.majorityLabel() < 0 ? "" : String.valueOf(g.majorityLabel()))
          .append("</td><td>")
          .append(labelCounts(g.labelCounts()))
          .append("</td>");
      if (thumbs) {
        b.append("<td>");
        for (String uri : g.thumbnails()) {
          b.append("<img class=\"thumb\" alt=\"member of group ")
              .append(g.groupId())
              .append("\" src=\"")
              .append(Html.escape(uri))
              .append("\">");
        }
        b.append("</td>");
      }
      b.append("</tr>\n");
    }
    b.append("</table>\n");
  }

  /** The user's group value, escaped; a null value (its own group) is shown as such. */
  private static String keyCell(String key) {
    return key == null
        ? "<td class=\"key null\">(null)</td>"
        : "<td class=\"key\">" + Html.escape(key) + "</td>";
  }

  /** "3: 12, 7: 5" for the non-zero classes, most frequent first. */
  private static String labelCounts(long[] counts) {
    Integer[] order = new Integer[counts.length];
    for (int i = 0; i < counts.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order, Comparator.comparingLong((Integer i) -> -counts[i]).thenComparingInt(i -> i));
    StringBuilder s = new StringBuilder();
    for (int i : order) {
      if (counts[i] > 0) {
        s.append(s.length() == 0 ? "" : ", ").append(i).append(": ").append(counts[i]);
      }
    }
    return s.toString();
  }

  private static void groupValues(
      StringBuilder b, List<RankedGroup> top, List<RankedGroup> bottom, boolean named) {
    if (top.isEmpty() && bottom.isEmpty()) {
      return;
    }
    b.append("<h2 id=\"group-values\">Group values</h2>\n")
        .append("<p class=\"note\">value: the group's score summed over all targets</p>\n");
    b.append("<div class=\"facts\">\n");
    groupValueTable(b, "highest", top, named);
    groupValueTable(b, "lowest", bottom, named);
    b.append("</div>\n");
  }

  private static void groupValueTable(
      StringBuilder b, String kind, List<RankedGroup> rows, boolean named) {
    b.append("<table class=\"values-")
        .append(kind)
        .append("\"><tr><th colspan=\"")
        .append(named ? 6 : 5)
        .append("\">")
        .append(kind)
        .append("</th></tr>\n<tr><th>rank</th><th>group</th>")
        .append(named ? "<th>group key</th>" : "")
        .append("<th>size</th><th>value</th><th>value per example</th></tr>\n");
    for (RankedGroup v : rows) {
      b.append("<tr><td class=\"n\">")
          .append(v.rank())
          .append("</td><td class=\"n\">")
          .append(v.groupId())
          .append("</td>")
          .append(named ? keyCell(v.groupKey()) : "")
          .append("<td class=\"n\">")
          .append(v.size())
          .append("</td><td class=\"n\">")
          .append(fmt(v.value()))
          .append("</td><td class=\"n\">")
          .append(fmt(v.valuePerExample()))
          .append("</td></tr>\n");
    }
    b.append("</table>\n");
  }

  /**
   * The fidelity protocol of an evaluate grid, as run.json records it ("seed_mode independent,
   * runs_per_subset 1, ..."); empty when the run has none.
   */
  static String protocol(ReportData.RunSummary run) {
    String prefix = "efficiency_fidelity.protocol.";
    List<String> parts = new ArrayList<>();
    run.facts()
        .getOrDefault("run", Map.of())
        .forEach(
            (k, v) -> {
              if (k.startsWith(prefix)) {
                parts.add(k.substring(prefix.length()) + " " + v);
              }
            });
    return String.join(", ", parts);
  }

  private static void efficiency(
      StringBuilder b, Map<String, Object> charts, List<EfficiencyPoint> rows, String protocol) {
    if (rows.isEmpty()) {
      return;
    }
    b.append("<h2 id=\"efficiency\">Efficiency and fidelity</h2>\n")
        .append(
            "<p class=\"note\">speedup of attribution over group size 1 against the linear datamodeling score")
        .append(" (LDS); labels give the group size</p>\n");
    if (!protocol.isEmpty()) {
      b.append("<p class=\"note\" id=\"efficiency-protocol\">protocol: ")
          .append(Html.escape(protocol))
          .append("</p>\n");
    }
    chartDiv(b, CHART_EFFICIENCY);
    Map<String, List<EfficiencyPoint>> byMethod = bySeries(rows, EfficiencyPoint::method);
    List<Object> series = new ArrayList<>();
    byMethod.forEach(
        (method, points) -> {
          series.add(scatter(method + " LDS", points, EfficiencyPoint::lds));
          if (points.stream().anyMatch(p -> Double.isFinite(p.groupLds()))) {
            series.add(scatter(method + " group LDS", points, EfficiencyPoint::groupLds));
          }
        });
    charts.put(
        CHART_EFFICIENCY,
        obj(
            "animation", false,
            "tooltip", obj("trigger", "item"),
            "legend",
                obj(
                    "top",
                    0,
                    "type",
                    "scroll",
                    "textStyle",
                    obj("width", 260, "overflow", "truncate")),
            "grid", obj("containLabel", true, "left", 10, "right", 40, "top", 40),
            "xAxis",
                obj(
                    "type",
                    "value",
                    "name",
                    "speedup",
                    "scale",
                    true,
                    "nameLocation",
                    "middle",
                    "nameGap",
                    28),
            "yAxis", obj("type", "value", "name", "LDS", "scale", true),
            "series", series));
    b.append(
            "<table id=\"efficiency-table\"><tr><th>method</th><th>grouping</th><th>group size</th><th>groups</th>")
        .append(
            "<th>attribution s</th><th>speedup</th><th>LDS</th><th>group LDS</th><th>removal effect</th></tr>\n");
    for (EfficiencyPoint p : rows) {
      b.append("<tr><td>")
          .append(Html.escape(p.method()))
          .append("</td><td>")
          .append(Html.escape(p.grouping()))
          .append("</td><td class=\"n\">")
          .append(p.groupSize())
          .append("</td><td class=\"n\">")
          .append(p.groups())
          .append("</td><td class=\"n\">")
          .append(measured(p.attributionSeconds()))
          .append("</td><td class=\"n\">")
          .append(measured(p.speedup()))
          .append("</td><td class=\"n\">")
          .append(measured(p.lds()))
          .append("</td><td class=\"n\">")
          .append(measured(p.groupLds()))
          .append("</td><td class=\"n\">")
          .append(measured(p.removalEffect()))
          .append("</td></tr>\n");
    }
    b.append("</table>\n");
  }

  private static Map<String, Object> scatter(
      String name,
      List<EfficiencyPoint> points,
      java.util.function.ToDoubleFunction<EfficiencyPoint> y) {
    List<Object> data = new ArrayList<>();
    for (EfficiencyPoint p : points) {
      if (Double.isFinite(p.speedup()) && Double.isFinite(y.applyAsDouble(p))) {
        data.add(List.of(p.speedup(), y.applyAsDouble(p), p.groupSize()));
      }
    }
    return obj(
        "type",
        "scatter",
        "name",
        name,
        "symbolSize",
        10,
        "data",
        data,
        "label",
        obj("show", true, "position", "right", "formatter", "g={@[2]}"));
  }

  private static void prune(StringBuilder b, Map<String, Object> charts, List<PrunePoint> rows) {
    if (rows.isEmpty()) {
      return;
    }
    b.append("<h2 id=\"prune\">Pruning</h2>\n")
        .append(
            "<p class=\"note\">accuracy after removing a fraction of the training data; bands are mean &plusmn; one")
        .append(" standard deviation over seeds</p>\n");
    chartDiv(b, CHART_PRUNE);
    Map<String, List<PrunePoint>> byStrategy = bySeries(rows, PrunePoint::strategy);
    List<Object> series = new ArrayList<>();
    List<String> legend = new ArrayList<>();
    int colour = 0;
    for (Map.Entry<String, List<PrunePoint>> e : byStrategy.entrySet()) {
      String strategy = e.getKey();
      List<PrunePoint> points = e.getValue();
      points.sort(Comparator.comparingDouble(PrunePoint::fraction));
      List<Object> band = new ArrayList<>();
      List<Object> mean = new ArrayList<>();
      for (PrunePoint p : points) {
        double sd = Double.isFinite(p.accuracyStd()) ? p.accuracyStd() : 0.0;
        band.add(
            Arrays.asList(
                p.fraction(), number(p.accuracyMean() - sd), number(p.accuracyMean() + sd)));
        mean.add(Arrays.asList(p.fraction(), number(p.accuracyMean())));
      }
      String c = PALETTE[colour++ % PALETTE.length];
      // ECharts has no band series: the draw script turns this into a custom polygon series.
      series.add(obj("type", "band", "name", strategy + " \u00b1 sd", "color", c, "data", band));
      series.add(obj("type", "line", "name", strategy, "data", mean, "symbolSize", 6, "color", c));
      legend.add(strategy);
    }
    charts.put(
        CHART_PRUNE,
        obj(
            "animation", false,
            "tooltip", obj("trigger", "item"),
            "legend",
                obj(
                    "top",
                    0,
                    "type",
                    "scroll",
                    "textStyle",
                    obj("width", 260, "overflow", "truncate"),
                    "data",
                    legend),
            "grid", obj("containLabel", true, "left", 10, "right", 40, "top", 40),
            "xAxis",
                obj(
                    "type",
                    "value",
                    "name",
                    "fraction removed",
                    "nameLocation",
                    "middle",
                    "nameGap",
                    28),
            "yAxis", obj("type", "value", "name", "accuracy", "scale", true),
            "series", series));
    b.append(
            "<table id=\"prune-table\"><tr><th>strategy</th><th>fraction</th><th>accuracy mean</th><th>accuracy sd</th>")
        .append("<th>seeds</th></tr>\n");
    for (PrunePoint p : rows) {
      b.append("<tr><td>")
          .append(Html.escape(p.strategy()))
          .append("</td><td class=\"n\">")
          .append(fmt(p.fraction()))
          .append("</td><td class=\"n\">")
          .append(fmt(p.accuracyMean()))
          .append("</td><td class=\"n\">")
          .append(fmt(p.accuracyStd()))
          .append("</td><td class=\"n\">")
          .append(p.seeds())
          .append("</td></tr>\n");
    }
    b.append("</table>\n");
  }

  private static void noise(
      StringBuilder b,
      Map<String, Object> charts,
      List<NoisePoint> curve,
      List<NoiseSummary> summary) {
    if (curve.isEmpty() && summary.isEmpty()) {
      return;
    }
    b.append("<h2 id=\"noise\">Label-noise detection</h2>\n")
        .append(
            "<p class=\"note\">fraction of the flipped labels found against the fraction of the data inspected</p>\n");
    if (!curve.isEmpty()) {
      chartDiv(b, CHART_NOISE);
      List<Object> series = new ArrayList<>();
      bySeries(curve, NoisePoint::method)
          .forEach(
              (method, points) -> {
                points.sort(Comparator.comparingDouble(NoisePoint::inspectedFraction));
                List<Object> data = new ArrayList<>();
                for (NoisePoint p : points) {
                  data.add(Arrays.asList(p.inspectedFraction(), number(p.recall())));
                }
                series.add(obj("type", "line", "name", method, "data", data, "showSymbol", false));
              });
      charts.put(
          CHART_NOISE,
          obj(
              "animation", false,
              "tooltip", obj("trigger", "axis"),
              "legend",
                  obj(
                      "top",
                      0,
                      "type",
                      "scroll",
                      "textStyle",
                      obj("width", 260, "overflow", "truncate")),
              "grid", obj("containLabel", true, "left", 10, "right", 40, "top", 40),
              "xAxis",
                  obj(
                      "type",
                      "value",
                      "name",
                      "inspected fraction",
                      "min",
                      0,
                      "max",
                      1,
                      "nameLocation",
                      "middle",
                      "nameGap",
                      28),
              "yAxis", obj("type", "value", "name", "recall", "min", 0, "max", 1),
              "series", series));
    }
    if (!summary.isEmpty()) {
      b.append(
          "<table id=\"noise-table\"><tr><th>method</th><th>AUC</th><th>recall at 20%</th></tr>\n");
      for (NoiseSummary s : summary) {
        b.append("<tr><td>")
            .append(Html.escape(s.method()))
            .append("</td><td class=\"n\">")
            .append(fmt(s.auc()))
            .append("</td><td class=\"n\">")
            .append(fmt(s.recallAt20()))
            .append("</td></tr>\n");
      }
      b.append("</table>\n");
    }
  }

  // ---- helpers

  private static void chartDiv(StringBuilder b, String id) {
    b.append("<div class=\"chart\" id=\"").append(id).append("\"></div>\n");
  }

  private static void row(StringBuilder b, String name, String value) {
    b.append("<tr><th>")
        .append(Html.escape(name))
        .append("</th><td>")
        .append(Html.escape(value))
        .append("</td></tr>\n");
  }

  /** Rows grouped by a series name, names in sorted order (mutable lists, for sorting). */
  private static <T> Map<String, List<T>> bySeries(
      List<T> rows, java.util.function.Function<T, String> name) {
    Map<String, List<T>> m = new TreeMap<>();
    for (T r : rows) {
      m.computeIfAbsent(String.valueOf(name.apply(r)), k -> new ArrayList<>()).add(r);
    }
    return m;
  }

  /** JSON has no NaN or infinity: ECharts reads null as a missing value. */
  private static Double number(double v) {
    return Double.isFinite(v) ? v : null;
  }

  static String fmt(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : String.valueOf(v);
  }

  private static String measured(double v) {
    return Double.isNaN(v) ? "not measured" : fmt(v);
  }

  /**
   * An ordered JSON object from alternating keys and values, so the page is the same on every run.
   */
  private static Map<String, Object> obj(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  private static volatile String echarts;

  /** The ECharts bundle, read once from the webjar on the classpath (shaded into the job jar). */
  static String echartsJs() {
    String js = echarts;
    if (js == null) {
      try (InputStream in = ReportPage.class.getResourceAsStream(ECHARTS_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(
              "the chart library "
                  + ECHARTS_RESOURCE
                  + " is missing from the classpath (org.webjars.npm:echarts:5.3.1)");
        }
        js = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        echarts = js;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + ECHARTS_RESOURCE, e);
      }
    }
    return js;
  }
}
