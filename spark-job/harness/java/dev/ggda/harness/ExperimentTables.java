package dev.ggda.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps the measurement tables of conf/experiments/*.md generated from the JSON the commands wrote
 * (a run.json copied beside the config): every block between
 *
 * <pre>
 * &lt;!-- table: RUN.json columns=method,grouping,group_size,lds where=method=trak --&gt;
 * &lt;!-- end table --&gt;
 * </pre>
 *
 * is replaced by the fidelity protocol of that run and a Markdown table of its efficiency-fidelity
 * rows (the optional {@code where} keeps the rows whose columns have those values, {@code ;}
 * between conditions). {@code removal_share} is a row's removal effect over the per-example row's
 * of the same method, projection and damping (the first one: with several kernels or Hessians, the
 * first mode's); {@code fixed_share} is the share of a row's attribution time spent in solve and
 * score. {@code RUN.json#/json/pointer} tables any other array of rows instead ({@link
 * #renderRows}). With {@code --check} nothing is written and the exit code says whether every file
 * was up to date.
 *
 * <p>Usage: {@code deploy/ggda experiment-tables [--check] [FILE.md ...]} (default: every
 * conf/experiments/*.md).
 */
public final class ExperimentTables {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern BLOCK =
      Pattern.compile(
          "<!-- table: (\\S+?)(?:#(\\S+))? columns=(\\S+)(?: where=(\\S+))? -->\\n(.*?)<!-- end table -->",
          Pattern.DOTALL);

  /** Column heading and number format. */
  private record Column(String heading, String format) {}

  private static final Map<String, Column> COLUMNS = new LinkedHashMap<>();

  static {
    COLUMNS.put("method", new Column("method", null));
    COLUMNS.put("projection", new Column("projection", null));
    COLUMNS.put("mode", new Column("kernel / Hessian", null));
    COLUMNS.put("damping", new Column("damping", null));
    COLUMNS.put("grouping", new Column("grouping", null));
    COLUMNS.put("group_size", new Column("group size", "%,d"));
    COLUMNS.put("groups", new Column("groups", "%,d"));
    COLUMNS.put("attribution_seconds", new Column("attribution s", "%,.1f"));
    COLUMNS.put("speedup", new Column("speedup", "%.1fx"));
    COLUMNS.put("speedup_with_grouping", new Column("speedup with grouping", "%.1fx"));
    COLUMNS.put("lds", new Column("LDS", "%.3f"));
    COLUMNS.put("lds_one_run", new Column("LDS, 1 run", "%.3f"));
    COLUMNS.put("group_lds", new Column("group LDS", "%.3f"));
    COLUMNS.put("group_lds_one_run", new Column("group LDS, 1 run", "%.3f"));
    COLUMNS.put("removal_effect", new Column("removal effect", "%+.4f"));
    COLUMNS.put("removal_share", new Column("share of per-example removal", "%.1f%%"));
    COLUMNS.put("random_removal_effect", new Column("random removal", "%+.4f"));
    COLUMNS.put("loo_pearson", new Column("LOO Pearson", "%.3f"));
    COLUMNS.put("grouping_seconds", new Column("grouping s", "%,.1f"));
    COLUMNS.put("target_seconds", new Column("targets s", "%,.1f"));
    COLUMNS.put("featurize_seconds", new Column("featurize s", "%,.1f"));
    COLUMNS.put("solve_seconds", new Column("solve s", "%,.1f"));
    COLUMNS.put("score_seconds", new Column("score s", "%,.1f"));
    COLUMNS.put("fixed_share", new Column("solve + score share", "%.1f%%"));
  }

  private ExperimentTables() {}

  public static void main(String[] args) throws IOException {
    boolean check = args.length > 0 && args[0].equals("--check");
    List<Path> files = new ArrayList<>();
    for (int i = check ? 1 : 0; i < args.length; i++) {
      files.add(Path.of(args[i]));
    }
    if (files.isEmpty()) {
      files = documents(Path.of("conf/experiments"));
    }
    List<String> stale = new ArrayList<>();
    for (Path f : files) {
      String text = Files.readString(f, StandardCharsets.UTF_8);
      String generated = regenerate(text, f.toAbsolutePath().getParent());
      if (!generated.equals(text)) {
        stale.add(f.toString());
        if (!check) {
          Files.writeString(f, generated, StandardCharsets.UTF_8);
        }
      }
    }
    if (check && !stale.isEmpty()) {
      System.err.println(
          "experiment-tables: out of date: "
              + String.join(", ", stale)
              + "; run deploy/ggda experiment-tables to regenerate them from their JSON");
      System.exit(1);
    }
    System.out.println(
        "experiment-tables: "
            + (check ? "checked " : "wrote ")
            + files.size()
            + " file(s)"
            + (check ? "" : ", " + stale.size() + " changed"));
  }

  /** The Markdown files under a folder, sorted. */
  static List<Path> documents(Path folder) throws IOException {
    try (var s = Files.list(folder)) {
      return s.filter(p -> p.toString().endsWith(".md")).sorted().toList();
    }
  }

  /**
   * The text with every table block generated again from its JSON (resolved against {@code dir}).
   */
  static String regenerate(String text, Path dir) {
    Matcher m = BLOCK.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String json = m.group(1);
      String pointer = m.group(2);
      String header =
          "<!-- table: "
              + json
              + (pointer == null ? "" : "#" + pointer)
              + " columns="
              + m.group(3)
              + (m.group(4) == null ? "" : " where=" + m.group(4))
              + " -->\n";
      List<String> columns = List.of(m.group(3).split(","));
      String body =
          pointer == null
              ? render(read(dir.resolve(json)), columns, m.group(4))
              : renderRows(read(dir.resolve(json)).at(pointer), columns, m.group(4));
      m.appendReplacement(out, Matcher.quoteReplacement(header + body + "<!-- end table -->"));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * Any other JSON array of objects (benchmark.json, scaling.json, ...): each column is {@code
   * name} or {@code name:format} (a java.util.Formatter pattern; integers default to %,d, other
   * numbers to %.4g), headed by its name; {@code a/b} names field b of the row's object a, headed
   * b.
   */
  static String renderRows(JsonNode rows, List<String> columns, String where) {
    if (!rows.isArray()) {
      throw new IllegalArgumentException("the JSON pointer does not name an array of rows");
    }
    StringBuilder b = new StringBuilder("| ");
    for (String c : columns) {
      String name = c.split(":", 2)[0];
      b.append(name.substring(name.lastIndexOf('/') + 1).replace('_', ' ')).append(" | ");
    }
    b.setLength(b.length() - 1);
    b.append("\n|").append(" --- |".repeat(columns.size())).append('\n');
    for (JsonNode row : rows) {
      if (!matches(row, where)) {
        continue;
      }
      b.append("| ");
      for (String c : columns) {
        String[] nf = c.split(":", 2);
        JsonNode v = nf[0].contains("/") ? row.at("/" + nf[0]) : row.path(nf[0]);
        String cell;
        if (v.isMissingNode() || v.isNull()) {
          cell = "-";
        } else if (!v.isNumber()) {
          cell = v.asText();
        } else if (nf.length == 2) {
          cell = String.format(Locale.ROOT, nf[1], nf[1].endsWith("d") ? v.asLong() : v.asDouble());
        } else {
          cell =
              v.isIntegralNumber()
                  ? String.format(Locale.ROOT, "%,d", v.asLong())
                  : String.format(Locale.ROOT, "%.4g", v.asDouble());
        }
        b.append(cell).append(" | ");
      }
      b.setLength(b.length() - 1);
      b.append('\n');
    }
    return b.toString();
  }

  private static JsonNode read(Path json) {
    try {
      return JSON.readTree(json.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + json + ": " + e.getMessage(), e);
    }
  }

  /** The protocol line, a blank line and the table of the run's efficiency-fidelity rows. */
  static String render(JsonNode run, List<String> columns, String where) {
    JsonNode grid = run.path("efficiency_fidelity");
    if (!grid.path("rows").isArray()) {
      throw new IllegalArgumentException(
          "the JSON has no efficiency_fidelity.rows (is it the run.json of ggda evaluate --methods?)");
    }
    for (String c : columns) {
      if (!COLUMNS.containsKey(c)) {
        throw new IllegalArgumentException(
            "unknown column " + c + "; known: " + String.join(", ", COLUMNS.keySet()));
      }
    }
    StringBuilder b = new StringBuilder();
    b.append(protocol(grid.path("protocol"), run.path("config").path("evaluate").path("metrics")))
        .append("\n\n");
    b.append("| ");
    for (String c : columns) {
      b.append(COLUMNS.get(c).heading()).append(" | ");
    }
    b.setLength(b.length() - 1);
    b.append("\n|");
    b.append(" --- |".repeat(columns.size()));
    b.append('\n');
    for (JsonNode row : grid.path("rows")) {
      if (!matches(row, where)) {
        continue;
      }
      b.append("| ");
      for (String c : columns) {
        b.append(cell(c, row, grid.path("rows"))).append(" | ");
      }
      b.setLength(b.length() - 1);
      b.append('\n');
    }
    return b.toString();
  }

  /**
   * "Protocol: ..." from run.json's efficiency_fidelity.protocol, naming only the metrics the run
   * measured (its evaluate.metrics; all of them when the config is not there).
   */
  static String protocol(JsonNode p, JsonNode metrics) {
    if (p.isMissingNode()) {
      return "*Protocol:* not recorded (a run from before the protocol was written to run.json).";
    }
    List<String> ran = new ArrayList<>();
    metrics.forEach(m -> ran.add(m.asText()));
    boolean all = ran.isEmpty();
    List<String> parts = new ArrayList<>();
    String alpha = p.path("fraction").asText();
    if (all || ran.contains("lds")) {
      parts.add(
          String.format(
              Locale.ROOT,
              "LDS over m = %d random subsets of alpha = %s of the training set",
              p.path("subsets").asInt(),
              alpha));
    }
    if (all || ran.contains("group-lds")) {
      parts.add(
          String.format(
              Locale.ROOT,
              "group LDS over %d random subsets of alpha = %s of the groups",
              p.path("group_subsets").asInt(),
              alpha));
    }
    int runs = p.path("runs_per_subset").asInt();
    if (!parts.isEmpty()) {
      String mode = p.path("seed_mode").asText();
      parts.add(
          String.format(
              Locale.ROOT,
              "%s, %d %s per subset (\"1 run\" columns: the first run of each subset alone)",
              mode.equals("shared")
                  ? "shared seeds (common random numbers)"
                  : "independent retraining seeds",
              runs,
              runs == 1 ? "run" : "runs"));
    }
    parts.add(String.format(Locale.ROOT, "%d targets", p.path("targets").asInt()));
    if (all || ran.contains("removal")) {
      parts.add(
          String.format(
              Locale.ROOT,
              "removal of %s of the examples with %d paired seeds",
              p.path("removal_fractions").toString().replaceAll("[\\[\\]]", "").replace(",", ", "),
              p.path("removal_seeds").asInt()));
    }
    return "*Protocol:* " + String.join("; ", parts) + ".";
  }

  private static boolean matches(JsonNode row, String where) {
    if (where == null) {
      return true;
    }
    for (String cond : where.split(";")) {
      String[] kv = cond.split("=", 2);
      if (kv.length != 2 || !row.path(kv[0]).asText().equals(kv[1])) {
        return false;
      }
    }
    return true;
  }

  private static String cell(String column, JsonNode row, JsonNode rows) {
    JsonNode v =
        switch (column) {
          case "removal_share" -> removalShare(row, rows);
          case "fixed_share" -> fixedShare(row);
          case "speedup_with_grouping" -> speedupWithGrouping(row, rows);
          default -> row.path(column);
        };
    String format = COLUMNS.get(column).format();
    if (v == null || v.isNull() || v.isMissingNode()) {
      return "-";
    }
    if (format == null) {
      return v.asText();
    }
    return format.startsWith("%,d")
        ? String.format(Locale.ROOT, format, v.asLong())
        : String.format(Locale.ROOT, format, v.asDouble());
  }

  /** 100 x (solve + score seconds) / attribution seconds, or null for rows without the split. */
  private static JsonNode fixedShare(JsonNode row) {
    if (!row.path("solve_seconds").isNumber() || !row.path("attribution_seconds").isNumber()) {
      return null;
    }
    double fixed = row.path("solve_seconds").asDouble() + row.path("score_seconds").asDouble();
    return JSON.getNodeFactory()
        .numberNode(100 * fixed / row.path("attribution_seconds").asDouble());
  }

  /**
   * 100 x removal effect / the per-example removal effect of the same method, projection and
   * damping.
   */
  private static JsonNode removalShare(JsonNode row, JsonNode rows) {
    JsonNode base = perExampleRow(row, rows, "removal_effect");
    if (base == null) {
      return null;
    }
    return JSON.getNodeFactory()
        .numberNode(
            100 * row.path("removal_effect").asDouble() / base.path("removal_effect").asDouble());
  }

  /**
   * (attribution + grouping seconds) of the per-example row over this row's: the speedup a user
   * sees, grouping included.
   */
  private static JsonNode speedupWithGrouping(JsonNode row, JsonNode rows) {
    JsonNode base = perExampleRow(row, rows, "grouping_seconds");
    if (base == null || !row.path("attribution_seconds").isNumber()) {
      return null;
    }
    double b =
        base.path("attribution_seconds").asDouble() + base.path("grouping_seconds").asDouble();
    double r = row.path("attribution_seconds").asDouble() + row.path("grouping_seconds").asDouble();
    return JSON.getNodeFactory().numberNode(b / r);
  }

  /**
   * The first group-size-1 row of the same method, projection and damping where both rows have
   * {@code field}, or null.
   */
  private static JsonNode perExampleRow(JsonNode row, JsonNode rows, String field) {
    for (JsonNode base : rows) {
      if (base.path("group_size").asInt() == 1
          && base.path("method").equals(row.path("method"))
          && base.path("projection").equals(row.path("projection"))
          && base.path("damping").equals(row.path("damping"))
          && base.path(field).isNumber()
          && row.path(field).isNumber()) {
        return base;
      }
    }
    return null;
  }
}
