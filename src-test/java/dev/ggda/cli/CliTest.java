package dev.ggda.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.GgdaConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CliTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @BeforeEach
  void captureStreams() {
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreStreams() {
    System.setOut(savedOut);
    System.setErr(savedErr);
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private static void assertContains(String haystack, String needle) {
    assertTrue(haystack.contains(needle), () -> "expected '" + needle + "' in: " + haystack);
  }

  /** Records what the subcommands start, instead of running Spark; optionally fails like a job. */
  private static final class FakeJobs implements JobRunner {
    final List<String> calls = new ArrayList<>();
    GgdaConfig config;
    String demoConfig;
    List<String> demoSets;
    String demoOut;
    RuntimeException failure;

    private void record(String call, GgdaConfig c) {
      calls.add(call);
      config = c;
      if (failure != null) {
        throw failure;
      }
    }

    @Override
    public void run(GgdaConfig c) {
      record("run", c);
    }

    @Override
    public void train(GgdaConfig c) {
      record("train", c);
    }

    @Override
    public void validate(GgdaConfig c) {
      record("validate", c);
    }

    @Override
    public void group(GgdaConfig c) {
      record("group", c);
    }

    @Override
    public void attribute(GgdaConfig c) {
      record("attribute", c);
    }

    @Override
    public void benchmark(GgdaConfig c, List<Integer> sizes) {
      record("benchmark" + sizes, c);
    }

    @Override
    public void benchmarkRows(GgdaConfig c, List<Long> rows) {
      record("rows" + rows + " size " + c.group().size(), c);
    }

    @Override
    public void evaluate(GgdaConfig c) {
      record("evaluate", c);
    }

    @Override
    public void evaluateGrid(GgdaConfig c, dev.ggda.config.GridSpec g) {
      record(
          "grid"
              + g.methods()
              + g.projections().stream().map(p -> p.kind() + ":" + p.dim()).toList()
              + g.dampings().stream().map(d -> d.label()).toList()
              + g.groupings()
              + g.sizes(),
          c);
    }

    @Override
    public void demo(String configPathOrNull, List<String> sets, String outDir) {
      demoConfig = configPathOrNull;
      demoSets = sets;
      demoOut = outDir;
      record("demo", null);
    }
  }

  // ---- help, version, usage errors

  @Test
  void helpExitsZeroAndListsTheSubcommands() {
    assertEquals(0, Main.execute("--help"));
    for (String sub :
        List.of("demo", "run", "train", "group", "attribute", "evaluate", "validate")) {
      assertContains(stdout(), "  " + sub + " ");
    }
    assertEquals("", stderr());
  }

  @Test
  void subcommandHelpShowsTheConfigOptions() {
    assertEquals(0, Main.execute("run", "--help"));
    assertContains(stdout(), "-c, --config=FILE");
    assertContains(stdout(), "--set=KEY=VALUE");
    assertEquals(0, Main.execute("demo", "--help"));
    assertContains(stdout(), "--out=DIR");
    assertContains(stdout(), "default: out/demo");
  }

  @Test
  void versionPrintsTheProjectVersion() throws IOException {
    assertEquals(0, Main.execute("--version"));
    assertEquals("ggda " + pomVersion(), stdout().lines().findFirst().orElse(""));
    assertEquals(pomVersion(), VersionInfo.version());
  }

  private static String pomVersion() throws IOException {
    Path pom = Path.of(System.getProperty("ggda.project.dir", "."), "pom.xml");
    Matcher m =
        Pattern.compile("<artifactId>ggda</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(Files.readString(pom));
    assertTrue(m.find(), "project version in " + pom);
    return m.group(1);
  }

  @Test
  void unknownSubcommandIsAUsageError() {
    assertEquals(2, Main.execute("frobnicate"));
    assertTrue(stderr().startsWith("ggda: error: "), stderr());
    assertContains(stderr(), "'frobnicate'");
    assertContains(stderr(), "Try 'ggda --help' for usage.");
    assertEquals("", stdout());
  }

  @Test
  void unknownOptionIsAUsageError() {
    assertEquals(2, Main.execute("run", "--bogus"));
    assertContains(stderr(), "ggda: error: Unknown option: '--bogus'");
    assertContains(stderr(), "Try 'ggda run --help' for usage.");
  }

  @Test
  void missingSubcommandOrOptionValueIsAUsageError() {
    assertEquals(2, Main.execute());
    assertContains(stderr(), "ggda: error: missing subcommand");
    assertEquals(2, Main.execute("train", "--set"));
    assertContains(stderr(), "'--set'");
  }

  // ---- config errors

  @Test
  void badConfigExitsTwoWithTheKeyOnOneLine() {
    FakeJobs jobs = new FakeJobs();
    int code =
        Main.execute(
            jobs, "run", "--set", "data.train.format=synthetic", "--set", "train.epochs=0");
    assertEquals(2, code);
    assertEquals(
        "ggda: error: config: train.epochs must be an integer >= 1, got 0" + System.lineSeparator(),
        stderr());
    assertEquals(List.of(), jobs.calls); // the job never started
  }

  @Test
  void unknownKeyInConfigFileExitsTwo(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, "data:\n  train: {format: synthetic}\ntrain:\n  epoch: 3\n");
    assertEquals(2, Main.execute(new FakeJobs(), "validate", "--config", file.toString()));
    assertContains(
        stderr(), "ggda: error: config: unknown key 'train.epoch' (did you mean 'train.epochs'?)");
    assertFalse(stderr().contains("\tat "), stderr());
  }

  @Test
  void evaluateStartsTheGridWhenItsOptionsAreGivenAndAlwaysIncludesSizeOne() {
    FakeJobs jobs = new FakeJobs();
    assertEquals(
        0,
        Main.execute(
            jobs,
            "evaluate",
            "--set",
            "data.train.format=synthetic",
            "--methods",
            "trak,IF",
            "--groupings",
            "kmeans-grad,random",
            "--group-sizes",
            "16,4"));
    assertEquals(
        List.of("grid[TRAK, IF][RADEMACHER:2048][1x][KMEANS_GRAD, RANDOM][1, 16, 4]"), jobs.calls);
    FakeJobs dims = new FakeJobs();
    assertEquals(
        0,
        Main.execute(
            dims,
            "evaluate",
            "--set",
            "data.train.format=synthetic",
            "--projections",
            "rademacher:512,factored:2048,rademacher:512"));
    assertEquals(
        List.of("grid[TRAK][RADEMACHER:512, FACTORED:2048][1x][KMEANS_GRAD][1, 64]"), dims.calls);
    assertEquals(
        2,
        Main.execute(
            dims,
            "evaluate",
            "--set",
            "data.train.format=synthetic",
            "--projections",
            "rademacher"));
    assertContains(
        stderr(),
        "ggda: error: --projections: 'rademacher' is not KIND:DIM; write e.g. rademacher:2048");
    FakeJobs damped = new FakeJobs();
    assertEquals(
        0,
        Main.execute(
            damped,
            "evaluate",
            "--set",
            "data.train.format=synthetic",
            "--dampings",
            "0.01,0,0.5x,0.01"));
    assertEquals(
        List.of("grid[TRAK][RADEMACHER:2048][0.01, 0, 0.5x][KMEANS_GRAD][1, 64]"), damped.calls);
    assertEquals(
        2,
        Main.execute(
            damped, "evaluate", "--set", "data.train.format=synthetic", "--dampings", "-1"));
    assertContains(
        stderr(),
        "ggda: error: --dampings: '-1' is not a damping; write a number >= 0 (absolute) or one with an x suffix"
            + " (relative to the mean eigenvalue), e.g. 0,1000,0.5x");
    FakeJobs plain = new FakeJobs();
    assertEquals(0, Main.execute(plain, "evaluate", "--set", "data.train.format=synthetic"));
    assertEquals(List.of("evaluate"), plain.calls);
  }

  @Test
  void benchmarkRowsRunsTheScalingModeWithOneGroupSize() {
    FakeJobs jobs = new FakeJobs();
    assertEquals(
        0,
        Main.execute(
            jobs,
            "benchmark",
            "--set",
            "data.train.format=synthetic",
            "--set",
            "group.size=100",
            "--rows",
            "1000000,3000000"));
    assertEquals(
        0,
        Main.execute(
            jobs,
            "benchmark",
            "--set",
            "data.train.format=synthetic",
            "--rows",
            "500",
            "--group-sizes",
            "10"));
    assertEquals(0, Main.execute(jobs, "benchmark", "--set", "data.train.format=synthetic"));
    assertEquals(
        List.of(
            "rows[1000000, 3000000] size 100", "rows[500] size 10", "benchmark[1, 16, 64, 256]"),
        jobs.calls);
    assertEquals(
        2,
        Main.execute(
            jobs,
            "benchmark",
            "--set",
            "data.train.format=synthetic",
            "--rows",
            "500",
            "--group-sizes",
            "1,16"));
    assertContains(stderr(), "ggda: error: --rows: give at most one group size with it");
  }

  @Test
  void evaluateRejectsUnknownGridValuesWithOneLine() {
    FakeJobs jobs = new FakeJobs();
    assertEquals(
        2,
        Main.execute(
            jobs, "evaluate", "--set", "data.train.format=synthetic", "--groupings", "kmeans"));
    assertContains(
        stderr(),
        "ggda: error: --groupings: unknown value 'kmeans'; use one of random, label, column,");
    assertEquals(
        2,
        Main.execute(
            jobs, "evaluate", "--set", "data.train.format=synthetic", "--methods", "gradcos"));
    assertContains(stderr(), "--methods: gradcos scores are not additive");
    assertEquals(List.of(), jobs.calls);
  }

  @Test
  void missingConfigFileExitsTwoThroughThePublicEntryPoint() {
    assertEquals(2, Main.execute("validate", "-c", "/no/such/ggda.yaml"));
    assertEquals(
        "ggda: error: config file not found: /no/such/ggda.yaml; pass an existing YAML file with --config"
            + System.lineSeparator(),
        stderr());
  }

  // ---- wiring

  @ParameterizedTest
  @ValueSource(strings = {"run", "train", "group", "attribute", "validate"})
  void subcommandsPassTheResolvedConfigToTheirJob(String sub, @TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, "data:\n  train: {path: /data/train.parquet}\ntrain: {epochs: 3}\n");
    FakeJobs jobs = new FakeJobs();
    assertEquals(
        0,
        Main.execute(
            jobs, sub, "-c", file.toString(), "--set", "train.epochs=4", "--set=model.hidden=[7]"));
    assertEquals(List.of(sub), jobs.calls);
    assertEquals("/data/train.parquet", jobs.config.data().train().path());
    assertEquals(4, jobs.config.train().epochs());
    assertEquals(List.of(7), jobs.config.model().hidden());
    assertEquals("", stderr());
  }

  @Test
  void demoPassesItsArgumentsUnresolved() {
    FakeJobs jobs = new FakeJobs();
    assertEquals(0, Main.execute(jobs, "demo"));
    assertNull(jobs.demoConfig);
    assertEquals(List.of(), jobs.demoSets);
    assertEquals("out/demo", jobs.demoOut);

    assertEquals(
        0,
        Main.execute(
            jobs,
            "demo",
            "--config",
            "demo.yaml",
            "--set",
            "train.epochs=2",
            "--set",
            "group.size=8",
            "--out",
            "/tmp/ggda-demo"));
    assertEquals("demo.yaml", jobs.demoConfig);
    assertEquals(List.of("train.epochs=2", "group.size=8"), jobs.demoSets);
    assertEquals("/tmp/ggda-demo", jobs.demoOut);
  }

  // ---- job failures

  @Test
  void inputExceptionFromAJobExitsTwoWithoutStackTrace() {
    FakeJobs jobs = new FakeJobs();
    jobs.failure =
        new InputException("data: column 'label' not found in /x;\nset data.train.label_col");
    assertEquals(2, Main.execute(jobs, "validate", "--set", "data.train.format=synthetic"));
    assertEquals(
        "ggda: error: data: column 'label' not found in /x; set data.train.label_col"
            + System.lineSeparator(),
        stderr());
  }

  @Test
  void wrappedInputExceptionIsStillAUserError() {
    FakeJobs jobs = new FakeJobs();
    jobs.failure =
        new IllegalStateException(
            "stage failed", new InputException("data.train: label -1 at id 7"));
    assertEquals(2, Main.execute(jobs, "run", "--set", "data.train.format=synthetic"));
    assertEquals("ggda: error: data.train: label -1 at id 7" + System.lineSeparator(), stderr());
  }

  @Test
  void otherExceptionsExitOneWithStackTrace() {
    FakeJobs jobs = new FakeJobs();
    jobs.failure = new UnsupportedOperationException("wired by the pipeline");
    assertEquals(1, Main.execute(jobs, "train", "--set", "data.train.format=synthetic"));
    assertTrue(stderr().startsWith("ggda: failed: wired by the pipeline"), stderr());
    assertContains(stderr(), "java.lang.UnsupportedOperationException: wired by the pipeline");
    assertContains(stderr(), "\tat ");
  }

  @Test
  void exceptionWithoutMessageIsNamed() {
    FakeJobs jobs = new FakeJobs();
    jobs.failure = new NullPointerException();
    assertEquals(1, Main.execute(jobs, "demo"));
    assertTrue(stderr().startsWith("ggda: failed: java.lang.NullPointerException"), stderr());
  }

  @Test
  void mainReturnsNormallyOnSuccess() {
    // System.exit(0) here would kill the test JVM (and fail the build): YARN needs main to return.
    Main.main(new String[] {"--version"});
    assertContains(stdout(), "ggda ");
  }
}
