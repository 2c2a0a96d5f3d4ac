package dev.ggda.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ggda.testing.SparkTestSession;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens a generated report in Debian's headless Chromium (no network: everything is inlined) and
 * reads the DOM after the scripts ran: every chart div got ECharts' SVG, the page's own marker says
 * no chart failed, and the hostile strings of the fixture stayed text.
 */
@Tag("browser")
class ReportBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void everyChartRendersAndNothingInjected(@TempDir Path tmp) throws Exception {
    assumeTrue(
        Files.isExecutable(CHROMIUM),
        "needs Debian's chromium (apt-get install chromium; .ci/run installs it)");
    ReportFixture fixture = ReportFixture.shared(SparkTestSession.get());
    ReportWriter.write(SparkTestSession.get(), fixture.dir.toString(), fixture.train);
    Path html = fixture.dir.resolve(ReportWriter.FILE);
    assertTrue(
        html.toString().contains(ReportFixture.HOSTILE), "the report sits under the hostile path");

    String dom = dumpDom(html, tmp);

    Matcher body = Pattern.compile("<body([^>]*)>").matcher(dom);
    assertTrue(body.find(), "no body in the dumped DOM");
    String bodyAttributes = body.group(1);
    assertFalse(bodyAttributes.contains("data-errors"), bodyAttributes);
    assertTrue(
        bodyAttributes.contains("data-rendered=\"ok\""),
        "the page's draw script did not finish: " + bodyAttributes);
    assertFalse(
        bodyAttributes.contains("pwned"), "a hostile string ran as script: " + bodyAttributes);

    List<String> charts =
        List.of(
            ReportPage.CHART_STAGES,
            ReportPage.CHART_GROUP_SIZES,
            ReportPage.CHART_SCORES,
            ReportPage.CHART_EFFICIENCY,
            ReportPage.CHART_PRUNE,
            ReportPage.CHART_NOISE);
    assertTrue(bodyAttributes.contains("data-charts=\"" + charts.size() + "\""), bodyAttributes);
    for (String id : charts) {
      String div = chartContent(dom, id);
      assertTrue(
          div.contains("<svg"),
          id + " has no SVG: " + div.substring(0, Math.min(300, div.length())));
      assertTrue(div.contains("<path"), id + " drew nothing");
    }
    // The thumbnails decoded as images, the hostile <img> did not become one.
    assertTrue(dom.contains("<img class=\"thumb\""));
    assertFalse(dom.contains("<img src=\"x\""));
    assertTrue(
        dom.contains("&lt;/script&gt;&lt;script&gt;document.body.dataset.pwned"),
        "hostile text shown as text");
  }

  /** The chart div's markup, from its id up to the next section. */
  private static String chartContent(String dom, String id) {
    int start = dom.indexOf("id=\"" + id + "\"");
    assertTrue(start >= 0, "no element " + id);
    int end = dom.length();
    for (String next : List.of("<h2", "<table", "<script")) {
      int i = dom.indexOf(next, start);
      if (i >= 0) {
        end = Math.min(end, i);
      }
    }
    return dom.substring(start, end);
  }

  private static String dumpDom(Path html, Path tmp) throws Exception {
    File out = tmp.resolve("dom.html").toFile();
    File err = tmp.resolve("chromium.log").toFile();
    Process p =
        new ProcessBuilder(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--user-data-dir=" + tmp.resolve("profile"),
                "--virtual-time-budget=5000",
                "--dump-dom",
                html.toUri().toString())
            .redirectOutput(out)
            .redirectError(err)
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "chromium did not finish in 60 s: " + Files.readString(err.toPath()));
    }
    assertEquals(0, p.exitValue(), () -> "chromium failed: " + read(err));
    return Files.readString(out.toPath(), StandardCharsets.UTF_8);
  }

  private static String read(File f) {
    try {
      return Files.readString(f.toPath());
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }
}
