package dev.ggda.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.cli.Main;
import dev.ggda.config.OutputMode;
import dev.ggda.io.RunOutput;
import dev.ggda.report.ReportData.EfficiencyPoint;
import dev.ggda.report.ReportData.GroupScore;
import dev.ggda.report.ReportData.TargetGroups;
import dev.ggda.testing.SparkTestSession;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** ReportWriter against a run folder whose contents the test knows value by value. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReportWriterTest {
  @TempDir static Path tmp;
  SparkSession spark;
  ReportFixture fixture;
  ReportData data;

  @BeforeAll
  void readOnce() throws Exception {
    spark = SparkTestSession.get();
    fixture = ReportFixture.shared(spark);
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(fixture.dir.toUri());
    FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    data = ReportWriter.read(spark, fs, fs.makeQualified(p), "shown", fixture.train);
  }

  @Test
  void groupSizeHistogramHasOneBarPerSize() {
    Histogram h = data.groupSizes();
    assertEquals(ReportFixture.GROUPS, data.groupCount());
    List<String> expectedLabels = new ArrayList<>();
    long[] expected = new long[ReportFixture.GROUPS];
    for (int g = 0; g < ReportFixture.GROUPS; g++) {
      expectedLabels.add(String.valueOf(fixture.size(g)));
      expected[(int) (fixture.size(g) - 3)]++;
    }
    assertEquals(expectedLabels, h.labels());
    assertArrayEquals(expected, h.counts());
  }

  @Test
  void scoreHistogramCountsEveryScoreInItsBin() {
    List<Double> all = new ArrayList<>();
    for (double[] row : fixture.score) {
      for (double s : row) {
        all.add(s);
      }
    }
    double lo = all.stream().min(Double::compare).orElseThrow();
    double hi = all.stream().max(Double::compare).orElseThrow();
    Histogram h = data.scores();
    long[] counts = h.counts();
    assertEquals(ReportWriter.BINS, counts.length);
    assertEquals(all.size(), data.scoreCount());
    assertEquals(lo, h.lo(), 0);
    // Count each bin directly: values in [left edge, right edge), the top value in the last bin.
    for (int b = 0; b < counts.length; b++) {
      double left = lo + b * (hi - lo) / ReportWriter.BINS;
      double right = lo + (b + 1) * (hi - lo) / ReportWriter.BINS;
      boolean last = b == counts.length - 1;
      long n =
          all.stream()
              .filter(s -> s >= left - 1e-12 && (last ? s <= hi : s < right - 1e-12))
              .count();
      assertEquals(n, counts[b], "bin " + b);
    }
  }

  @Test
  void topGroupsAreTheHighestAndLowestScoresWithTheirLabelsAndMembers() throws Exception {
    List<TargetGroups> top = data.topGroups();
    assertEquals(List.of(0L, 1L, 2L), top.stream().map(TargetGroups::targetId).toList());
    for (TargetGroups t : top) {
      int target = (int) t.targetId();
      List<Integer> byScore =
          IntStream.range(0, ReportFixture.GROUPS)
              .boxed()
              .sorted(Comparator.comparingDouble(g -> -fixture.score[target][g]))
              .toList();
      List<Long> pro =
          byScore.subList(0, ReportWriter.PER_SIDE).stream().map(Long::valueOf).toList();
      List<Long> con =
          new ArrayList<>(
              byScore
                  .subList(ReportFixture.GROUPS - ReportWriter.PER_SIDE, ReportFixture.GROUPS)
                  .stream()
                  .map(Long::valueOf)
                  .toList());
      java.util.Collections.reverse(con);
      assertEquals(pro, t.proponents().stream().map(GroupScore::groupId).toList());
      assertEquals(con, t.opponents().stream().map(GroupScore::groupId).toList());
      for (GroupScore g : t.proponents()) {
        int gid = (int) g.groupId();
        assertEquals(fixture.score[target][gid], g.score(), 0);
        assertEquals(fixture.size(gid), g.size());
        assertArrayEquals(fixture.labelCounts(gid), g.labelCounts());
        // Thumbnails: the 4 lowest example ids of the group, pixel by pixel.
        List<Integer> members =
            IntStream.range(0, fixture.exampleGroup.length)
                .filter(e -> fixture.exampleGroup[e] == gid)
                .limit(ReportWriter.THUMBS)
                .boxed()
                .toList();
        assertEquals(members.size(), g.thumbnails().size());
        for (int i = 0; i < members.size(); i++) {
          assertPixels(fixture.features[members.get(i)], g.thumbnails().get(i));
        }
      }
    }
  }

  private static void assertPixels(float[] features, String dataUri) throws Exception {
    String prefix = "data:image/png;base64,";
    assertTrue(dataUri.startsWith(prefix));
    BufferedImage img =
        ImageIO.read(
            new ByteArrayInputStream(
                Base64.getDecoder().decode(dataUri.substring(prefix.length()))));
    assertEquals(ReportFixture.SIDE, img.getWidth());
    assertEquals(ReportFixture.SIDE, img.getHeight());
    for (int p = 0; p < features.length; p++) {
      int expected = Math.round(Math.max(0f, Math.min(1f, features[p])) * 255f);
      assertEquals(
          expected,
          img.getRaster().getSample(p % ReportFixture.SIDE, p / ReportFixture.SIDE, 0),
          "pixel " + p);
    }
  }

  @Test
  void groupValuesAndOptionalTablesAreReadAsWritten() {
    assertEquals(1L, data.topValues().get(0).rank());
    assertEquals(ReportFixture.GROUPS, data.bottomValues().get(0).rank());
    double best = Double.NEGATIVE_INFINITY;
    for (int g = 0; g < ReportFixture.GROUPS; g++) {
      double v = 0;
      for (int t = 0; t < ReportFixture.TARGETS; t++) {
        v += fixture.score[t][g];
      }
      best = Math.max(best, v);
    }
    assertEquals(best, data.topValues().get(0).value(), 1e-12);

    // Written as CSV: NaN must come back as NaN, longs as longs.
    assertEquals(6, data.efficiency().size());
    assertEquals(
        java.util.Set.of("trak", ReportFixture.HOSTILE),
        data.efficiency().stream()
            .map(EfficiencyPoint::method)
            .collect(java.util.stream.Collectors.toSet()));
    EfficiencyPoint p16 =
        data.efficiency().stream()
            .filter(p -> p.method().equals("trak") && p.groupSize() == 16)
            .findFirst()
            .orElseThrow();
    assertEquals(6000 / 16, p16.groups());
    assertEquals(Math.sqrt(16), p16.speedup(), 1e-12);
    assertTrue(Double.isNaN(p16.groupLds()));
    assertTrue(Double.isNaN(p16.removalEffect()));
    assertEquals(12, data.prune().size());
    assertEquals(22, data.noiseCurve().size());
    assertEquals(2, data.noiseSummary().size());
  }

  @Test
  void withoutTrainingDataThereAreNoThumbnailsAndNoOptionalSectionsWhenAbsent() throws Exception {
    Path dir = tmp.resolve("bare");
    Files.createDirectories(dir);
    Files.copy(fixture.dir.resolve("run.json"), dir.resolve("run.json"));
    String report = ReportWriter.write(spark, dir.toString(), null);
    assertTrue(report.endsWith("/bare/" + ReportWriter.FILE), report);
    String html = Files.readString(dir.resolve(ReportWriter.FILE));
    assertTrue(html.contains("id=\"" + ReportPage.CHART_STAGES + "\""));
    assertFalse(html.contains("id=\"" + ReportPage.CHART_GROUP_SIZES + "\""));
    assertFalse(html.contains("id=\"" + ReportPage.CHART_PRUNE + "\""));
  }

  @Test
  void withTopKScoresNoOpponentsAreClaimed() throws Exception {
    Path dir = tmp.resolve("topk");
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("run.json"), "{\"command\":\"run\",\"config\":{\"output\":{\"top_k\":2}}}");
    List<org.apache.spark.sql.Row> rows = new ArrayList<>();
    List<Integer> expected = new ArrayList<>();
    for (int g = 0; g < ReportFixture.GROUPS; g++) {
      if (fixture.score[0][g] > 0.1) {
        rows.add(org.apache.spark.sql.RowFactory.create(0L, (long) g, fixture.score[0][g]));
        expected.add(g);
      }
    }
    spark
        .createDataFrame(
            rows,
            org.apache.spark.sql.types.StructType.fromDDL(
                "target_id long, group_id long, score double"))
        .write()
        .parquet(dir.resolve("scores").toString());
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir.toUri());
    FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    TargetGroups t =
        ReportWriter.read(spark, fs, fs.makeQualified(p), "x", null).topGroups().get(0);
    assertFalse(t.opponentsKnown());
    assertEquals(List.of(), t.opponents());
    expected.sort(Comparator.comparingDouble(g -> -fixture.score[0][g]));
    assertEquals(
        expected.stream().map(Long::valueOf).toList(),
        t.proponents().stream().map(GroupScore::groupId).toList());
    assertEquals(-1, t.proponents().get(0).size(), "no group_stats: size unknown");
  }

  @Test
  void aMissingRunJsonIsAnInputErrorAndOnlyAWarningForARun() throws Exception {
    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    InputException e =
        assertThrows(InputException.class, () -> ReportWriter.write(spark, empty.toString(), null));
    assertTrue(e.getMessage().contains("run.json"), e.getMessage());

    RunOutput out =
        RunOutput.open(
            tmp.resolve("unreported").toString(),
            OutputMode.ERROR,
            spark.sparkContext().hadoopConfiguration());
    try {
      assertFalse(ReportWriter.writeOrWarn(spark, out, null));
    } finally {
      out.abort();
    }
  }

  /** The hook: a real `group` run commits report.html beside its tables. */
  @Test
  void everyRunWritesItsReport() throws Exception {
    Path out = tmp.resolve("hooked");
    int code =
        Main.execute(
            "group",
            "--set",
            "data.train.format=synthetic",
            "--set",
            "data.train.synthetic.n=200",
            "--set",
            "data.train.synthetic.dim=4",
            "--set",
            "data.train.synthetic.classes=3",
            "--set",
            "model.kind=logistic",
            "--set",
            "train.epochs=1",
            "--set",
            "train.checkpoints=1",
            "--set",
            "group.method=random",
            "--set",
            "group.size=10",
            "--set",
            "output.path=" + out);
    assertEquals(0, code);
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    String html = Files.readString(out.resolve(ReportWriter.FILE));
    assertTrue(html.contains("id=\"" + ReportPage.CHART_GROUP_SIZES + "\""));
    assertTrue(
        html.contains("<code>" + Html.escape("file:" + out) + "</code>"),
        "the final path, not the staging folder");
  }
}
