package dev.ggda.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.testing.CliCapture;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Numerical robustness: a kernel of rank below k (projection dim above the number of groups, two
 * groups with identical rows) is damped with a warning and gives finite scores; inputs that would
 * overflow float32 are refused with one clear line (exit 2) instead of NaN scores.
 */
class RobustnessTest {
  @TempDir Path dir;

  /** 10 sources of 20 random rows, plus two sources holding the very same 10 rows. */
  static String trainCsv(double scale) {
    StringBuilder sb = new StringBuilder("id,label,source,x1,x2,x3\n");
    Random r = new Random(7);
    int id = 0;
    for (int i = 0; i < 200; i++) {
      int y = r.nextInt(3);
      sb.append(id++).append(',').append(y).append(",s").append(i % 10);
      for (int f = 0; f < 3; f++) {
        sb.append(',').append((r.nextGaussian() + (f == y ? 2 : 0)) * scale);
      }
      sb.append('\n');
    }
    List<String> dup = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int y = r.nextInt(3);
      dup.add(
          y
              + ",%s,"
              + (r.nextGaussian() * scale)
              + ","
              + (r.nextGaussian() * scale)
              + ","
              + (r.nextGaussian() * scale));
    }
    for (String group : List.of("dupA", "dupB")) {
      for (String row : dup) {
        sb.append(id++).append(',').append(String.format(row, group)).append('\n');
      }
    }
    return sb.toString();
  }

  int run(Path train, Path targets, Path out, StringBuilder console) {
    return CliCapture.run(
        "run",
        List.of(
            "data.train.path=" + train,
            "data.train.format=csv",
            "data.train.group_col=source",
            "data.targets.path=" + targets,
            "data.targets.format=csv",
            "data.classes=3",
            "model.kind=mlp",
            "model.hidden=[8]",
            "train.epochs=2",
            "group.method=column",
            "attribute.method=trak",
            "attribute.projection.dim=32",
            // No relative damping: these tests exercise the automatic fallback damping of singular
            // kernels.
            "attribute.kernel=batched",
            "attribute.relative_damping=0",
            "output.mode=overwrite",
            "output.path=" + out),
        console);
  }

  Path targets() throws IOException {
    return Files.writeString(
        dir.resolve("targets.csv"),
        "id,label,x1,x2,x3\n1,0,2.1,0.1,-0.3\n2,1,0.2,1.9,0.4\n3,2,-0.1,0.3,2.2\n");
  }

  @Test
  void rankDeficientKernelsAreDampedWithAWarningAndScoresStayFinite() throws IOException {
    SparkTestSession.get();
    Path train = Files.writeString(dir.resolve("train.csv"), trainCsv(1.0));
    Path out = dir.resolve("out");
    StringBuilder console = new StringBuilder();
    assertEquals(0, run(train, targets(), out, console), console.toString());
    String text = console.toString();
    assertTrue(text.contains("singular or ill-conditioned; damped with"), text);
    List<Row> scores =
        SparkTestSession.get().read().parquet(out.resolve("scores").toString()).collectAsList();
    assertEquals(3 * 12, scores.size());
    for (Row r : scores) {
      assertTrue(Double.isFinite(r.<Double>getAs("score")), "score " + r);
    }
    // The two groups of identical rows get the same scores.
    Row dupA =
        SparkTestSession.get()
            .read()
            .parquet(out.resolve("groups").toString())
            .filter("example_id = 200")
            .first();
    Row dupB =
        SparkTestSession.get()
            .read()
            .parquet(out.resolve("groups").toString())
            .filter("example_id = 210")
            .first();
    long ga = dupA.<Long>getAs("group_id");
    long gb = dupB.<Long>getAs("group_id");
    assertTrue(ga != gb);
    for (Row a : scores) {
      if (a.<Long>getAs("group_id") != ga) {
        continue;
      }
      double sa = a.<Double>getAs("score");
      double sb =
          scores.stream()
              .filter(
                  b ->
                      b.<Long>getAs("group_id") == gb
                          && b.<Long>getAs("target_id").equals(a.<Long>getAs("target_id")))
              .findFirst()
              .orElseThrow()
              .<Double>getAs("score");
      assertEquals(sa, sb, 1e-5 * Math.max(1e-9, Math.abs(sa)), "target " + a.getAs("target_id"));
    }
  }

  @Test
  void featuresThatOverflowFloat32AreRefusedWithOneLine() throws IOException {
    SparkTestSession.get();
    Path train = Files.writeString(dir.resolve("huge.csv"), trainCsv(1e30));
    Path out = dir.resolve("huge-out");
    StringBuilder console = new StringBuilder();
    int code = run(train, targets(), out, console);
    String text = console.toString();
    assertEquals(2, code, text);
    List<String> errors = text.lines().filter(l -> l.startsWith("ggda: error")).toList();
    assertEquals(1, errors.size(), text);
    assertTrue(
        errors.get(0).contains("features") && errors.get(0).contains("scale"), errors.get(0));
    assertTrue(!Files.exists(out.resolve("_SUCCESS")));
  }
}
