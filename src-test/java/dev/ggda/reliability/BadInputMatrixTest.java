package dev.ggda.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.testing.CliCapture;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input matrix: each case runs the real CLI against the output path of an earlier good run
 * and must give exit code 2, exactly one `ggda: error:` line naming the thing and the fix, no new
 * `_SUCCESS` anywhere, and the good output byte for byte as it was.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputMatrixTest {
  @TempDir static Path dir;
  static Path out;
  static Path train;
  static Path targets;
  static Map<String, String> goodHashes;

  /** A case: a name, what to change, and words the error line must contain. */
  record Case(String name, List<String> sets, List<String> words) {
    @Override
    public String toString() {
      return name;
    }
  }

  static String csv(int rows, long seed) {
    StringBuilder sb = new StringBuilder("id,label,x1,x2,x3\n");
    Random r = new Random(seed);
    for (int i = 0; i < rows; i++) {
      int y = r.nextInt(3);
      sb.append(i).append(',').append(y);
      for (int f = 0; f < 3; f++) {
        sb.append(',').append(r.nextGaussian() + (f == y ? 2 : 0));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static List<String> base() {
    return List.of(
        "data.train.path=" + train,
        "data.train.format=csv",
        "data.targets.path=" + targets,
        "data.targets.format=csv",
        "data.classes=3",
        "model.kind=logistic",
        "train.epochs=1",
        "group.method=random",
        "group.size=4",
        "attribute.method=trak",
        "attribute.projection.dim=4",
        "output.path=" + out,
        "output.mode=overwrite");
  }

  static int run(List<String> extra, StringBuilder console) {
    List<String> sets = new ArrayList<>(base());
    sets.addAll(extra);
    return CliCapture.run("run", sets, console);
  }

  static Path write(String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  static int successFiles() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return (int) s.filter(p -> p.getFileName().toString().equals("_SUCCESS")).count();
    }
  }

  @BeforeAll
  void goodRun() throws Exception {
    SparkSession spark = SparkTestSession.get();
    train = write("train.csv", csv(120, 1));
    targets = write("targets.csv", csv(4, 2));
    out = dir.resolve("out");
    StringBuilder console = new StringBuilder();
    assertEquals(0, run(List.of(), console), console.toString());
    goodHashes = dev.ggda.pipeline.ResumeTestHashes.of(out);

    // Inputs for the data and model cases.
    write("empty.csv", "id,label,x1,x2,x3\n");
    write("nan.csv", csv(20, 3).replaceFirst("\n(\\d+),(\\d),[^,]+,", "\n$1,$2,NaN,"));
    write("inf.csv", csv(20, 3).replaceFirst("\n(\\d+),(\\d),[^,]+,", "\n$1,$2,Infinity,"));
    write("label7.csv", csv(20, 3).replaceFirst("\n(\\d+),\\d,", "\n$1,7,"));
    write("labeltext.csv", csv(20, 3).replaceFirst("\n(\\d+),\\d,", "\n$1,cat,"));
    write("dupids.csv", csv(20, 3).replaceFirst("\n1,", "\n0,"));
    write("stray.csv", csv(20, 3).replaceFirst("\n5,(\\d),([^,]+),[^,]+,", "\n5,$1,$2,abc,"));
    StructType ragged =
        new StructType()
            .add("id", DataTypes.LongType)
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType));
    spark
        .createDataFrame(
            List.of(
                RowFactory.create(1L, 0, new float[] {1f, 2f}),
                RowFactory.create(2L, 1, new float[] {1f})),
            ragged)
        .write()
        .parquet(dir.resolve("ragged.parquet").toString());
    // A copy of the good model with one weight file truncated.
    Path model = dir.resolve("model-corrupt");
    try (Stream<Path> s = Files.walk(out.resolve("model"))) {
      for (Path p : s.toList()) {
        Path dst = model.resolve(out.resolve("model").relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dst);
        } else {
          Files.copy(p, dst);
        }
      }
    }
    try (Stream<Path> s = Files.walk(model)) {
      Path npy = s.filter(p -> p.toString().endsWith(".npy")).findFirst().orElseThrow();
      try (RandomAccessFile f = new RandomAccessFile(npy.toFile(), "rw")) {
        f.setLength(f.length() / 2);
      }
    }
    // An MLlib model ggda cannot use: linear regression.
    StructType lr =
        new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());
    new LinearRegression()
        .setMaxIter(1)
        .fit(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(1.0, Vectors.dense(1, 2, 3)),
                    RowFactory.create(0.0, Vectors.dense(0, 1, 0))),
                lr))
        .write()
        .save(dir.resolve("mllib-linreg").toString());
  }

  static Stream<Case> cases() {
    Path d = dir;
    return Stream.of(
        new Case("unknown config key", List.of("train.epochz=3"), List.of("epochz")),
        new Case("wrong type", List.of("train.epochs=three"), List.of("train.epochs")),
        new Case("zero group size", List.of("group.size=0"), List.of("group.size")),
        new Case("negative epochs", List.of("train.epochs=-1"), List.of("train.epochs")),
        new Case(
            "projection dim above the parameter count",
            List.of("attribute.projection.dim=999"),
            List.of("attribute.projection.dim", "parameters")),
        new Case(
            "missing path",
            List.of("data.train.path=" + d.resolve("nope.csv")),
            List.of("nope.csv")),
        new Case(
            "empty training set",
            List.of("data.train.path=" + d.resolve("empty.csv")),
            List.of("data.train", "rows")),
        new Case(
            "empty target set",
            List.of("data.targets.path=" + d.resolve("empty.csv")),
            List.of("data.targets", "rows")),
        new Case(
            "label column of text",
            List.of("data.train.path=" + d.resolve("labeltext.csv")),
            List.of("label")),
        new Case(
            "NaN feature",
            List.of("data.train.path=" + d.resolve("nan.csv")),
            List.of("NaN", "row")),
        new Case(
            "infinite feature",
            List.of("data.train.path=" + d.resolve("inf.csv")),
            List.of("Infinity")),
        new Case(
            "label out of range",
            List.of("data.train.path=" + d.resolve("label7.csv")),
            List.of("label", "7")),
        new Case(
            "ragged vectors",
            List.of("data.train.path=" + d.resolve("ragged.parquet"), "data.train.format=parquet"),
            List.of("ragged")),
        new Case(
            "stray text in a feature column",
            List.of("data.train.path=" + d.resolve("stray.csv")),
            List.of("feature column 'x2'", "\"abc\"", "line 7 of", "stray.csv")),
        new Case(
            "duplicate ids",
            List.of("data.train.path=" + d.resolve("dupids.csv")),
            List.of("more than once", "unique")),
        new Case(
            "corrupt .npy model file",
            List.of("model.load=" + d.resolve("model-corrupt")),
            List.of(".npy")),
        new Case(
            "unsupported MLlib model",
            List.of("model.load=" + d.resolve("mllib-linreg")),
            List.of("LinearRegression")),
        new Case(
            "existing output without overwrite",
            List.of("output.mode=error"),
            List.of("output.path", "overwrite")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void badInputExitsTwoWithOneLineAndTouchesNothing(Case c) throws Exception {
    int successBefore = successFiles();
    StringBuilder console = new StringBuilder();
    int code = run(c.sets(), console);
    String text = console.toString();
    assertEquals(2, code, c.name() + ":\n" + text);
    List<String> errors = text.lines().filter(l -> l.startsWith("ggda: error:")).toList();
    assertEquals(1, errors.size(), text);
    String line = errors.get(0);
    for (String w : c.words()) {
      assertTrue(line.contains(w), "'" + w + "' missing from: " + line);
    }
    // The fix: after a "; " (e.g. "; set ... to ..."), or the constraint the value must meet.
    assertTrue(
        line.contains("; ") || line.contains(" must ") || line.contains("expected "),
        "no fix in: " + line);
    assertEquals(
        goodHashes, dev.ggda.pipeline.ResumeTestHashes.of(out), "the earlier good output changed");
    assertEquals(successBefore, successFiles(), "a _SUCCESS appeared");
    assertFalse(
        Arrays.stream(dir.toFile().list()).anyMatch(n -> n.startsWith(".out.staging-")),
        "staging left behind");
  }
}
