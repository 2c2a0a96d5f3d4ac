package dev.ggda.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ggda.io.ScoreTables;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded job jar on a real Spark standalone cluster: a master and two one-core workers as
 * separate JVMs on 127.0.0.1, the job submitted through SparkSubmit in client mode, as {@code
 * spark-submit --master spark://...} would. Its scores must equal a local-mode run of the same
 * config through deploy/ggda (1e-9 relative), also when a worker and its executor are killed while
 * featurize tasks run. Needs {@code mvn package} first (failsafe runs it after package):
 *
 * <pre>
 *   mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=StandaloneClusterIT
 * </pre>
 */
@Tag("cluster")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StandaloneClusterIT {
  static final String FASHION = "/usr/share/datasets/fashion-mnist";
  static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);

  @TempDir static Path tmp;
  Path root;
  StandaloneCluster cluster;
  Map<Long, Map<Long, Double>> localScores;
  Map<Long, Map<Long, Double>> cleanClusterScores;

  /**
   * A Fashion-MNIST slice whose featurize is long enough to be hit: per-example attribution (group
   * size 1) with TRAK's exact kernel, k = 512, so every task projects each example's gradient.
   */
  static List<String> sets(Path out) {
    return List.of(
        "data.train.path=" + FASHION + "/train-images-idx3-ubyte.gz",
        "data.train.format=idx",
        "data.train.limit=3000",
        "data.targets.path=" + FASHION + "/t10k-images-idx3-ubyte.gz",
        "data.targets.format=idx",
        "data.targets.limit=100",
        "data.classes=10",
        "model.kind=mlp",
        "model.hidden=[16]",
        "train.epochs=2",
        "train.batch_size=64",
        "train.checkpoints=1",
        "group.method=random",
        "group.size=1",
        "attribute.method=trak",
        "attribute.kernel=exact",
        "attribute.projection.dim=512",
        "output.path=" + out);
  }

  static List<String> cliArgs(Path out) {
    List<String> a = new ArrayList<>(List.of("run"));
    for (String s : sets(out)) {
      a.add("--set");
      a.add(s);
    }
    return a;
  }

  @BeforeAll
  void startClusterAndRunReferences() throws Exception {
    assumeTrue(
        Files.exists(Path.of(FASHION, "train-images-idx3-ubyte.gz")),
        "apt-get install dataset-fashion-mnist");
    root = Path.of(System.getProperty("ggda.project.dir", "."));
    for (String f : List.of("ggda-job.jar", "embedded-classpath.txt", "spark-classpath.txt")) {
      assertTrue(
          Files.exists(root.resolve("target").resolve(f)),
          "target/" + f + " missing: run mvn package first");
    }
    cluster = new StandaloneCluster(tmp, root.resolve("target/spark-classpath.txt"), 2, 1, "2g");
    // The local reference runs while the cluster JVMs start.
    localScores = runLocal(tmp.resolve("local"));
    cluster.awaitWorkers(2, Duration.ofMinutes(2));
    Process clean = submit("submit-clean", tmp.resolve("cluster-clean"));
    awaitSuccess(clean, "submit-clean");
    cleanClusterScores =
        ScoreTables.read(SparkTestSession.get(), tmp.resolve("cluster-clean").toString());
  }

  @AfterAll
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void clusterScoresEqualLocalModeScores() throws Exception {
    assertTrue(Files.exists(tmp.resolve("cluster-clean/_SUCCESS")));
    double worst =
        ScoreTables.assertSame(
            localScores, cleanClusterScores, 1e-9, "standalone cluster vs local mode");
    System.out.printf(
        "StandaloneClusterIT: cluster vs local, largest relative difference %.3g%n", worst);
    // The run really went through the cluster: the master lists it, finished, with both workers'
    // cores.
    JsonNode master =
        StandaloneCluster.getJson("http://127.0.0.1:" + cluster.masterUiPort + "/json/");
    boolean seen = false;
    for (JsonNode app : master.path("completedapps")) {
      seen |=
          app.path("name").asText().equals("dev.ggda.cli.Main")
              && app.path("cores").asInt() == 2
              && app.path("state").asText().equals("FINISHED");
    }
    assertTrue(seen, "no finished ggda app with 2 cores on the master: " + master);
  }

  @Test
  void workerKilledDuringFeaturizeChangesNoScore() throws Exception {
    cluster.awaitWorkers(2, Duration.ofMinutes(1));
    int uiPort = StandaloneCluster.freePort();
    Path out = tmp.resolve("cluster-killed");
    Process driver = submit("submit-killed", out, "--conf", "spark.ui.port=" + uiPort);
    // The stage that featurizes (the reduce side of the block shuffle), not the shuffle's map side.
    String stage =
        awaitActiveStage(driver, uiPort, "treeAggregate at FeaturizeStage", Duration.ofMinutes(4));
    cluster.killWorker(1);
    System.out.println(
        "StandaloneClusterIT: killed worker 1 and its executor while running stage '"
            + stage
            + "'");
    awaitSuccess(driver, "submit-killed");
    String driverLog = Files.readString(cluster.log("submit-killed"));
    assertTrue(
        driverLog.contains("Lost executor") || driverLog.contains("ExecutorLostFailure"),
        "the driver never noticed the lost executor; log tail:\n" + tail(driverLog));
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    double worst =
        ScoreTables.assertSame(
            cleanClusterScores,
            ScoreTables.read(SparkTestSession.get(), out.toString()),
            1e-9,
            "worker killed vs clean cluster run");
    System.out.printf(
        "StandaloneClusterIT: killed vs clean, largest relative difference %.3g%n", worst);
  }

  /** The launcher's embedded local mode (local[*], no Spark install), as a user runs it. */
  Map<Long, Map<Long, Double>> runLocal(Path out) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("deploy/ggda").toString()));
    cmd.addAll(cliArgs(out));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("local.log").toFile());
    pb.environment().put("GGDA_DRIVER_MEMORY", "2g");
    pb.environment().put("GGDA_OFFHEAP", "2g");
    pb.environment().put("GGDA_MAX_PHYSICAL", "6g");
    pb.environment().put("OMP_NUM_THREADS", "1");
    StandaloneCluster.pinOpenBlasCoreType(pb.environment());
    pb.environment().remove("SPARK_HOME");
    Process p = pb.start();
    try {
      awaitExit(p, "local", tmp.resolve("local.log"));
    } finally {
      p.destroyForcibly();
    }
    return ScoreTables.read(SparkTestSession.get(), out.toString());
  }

  /** SparkSubmit in client mode in its own JVM, from SPARK_HOME/jars, with the shaded job jar. */
  Process submit(String name, Path out, String... extraConf) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--master",
                cluster.masterUrl(),
                "--deploy-mode",
                "client",
                "--class",
                "dev.ggda.cli.Main",
                "--conf",
                "spark.executor.memory=1g",
                "--conf",
                "spark.executor.cores=1",
                "--conf",
                "spark.cores.max=2",
                "--conf",
                "spark.executorEnv.OMP_NUM_THREADS=1",
                "--conf",
                "spark.driver.host=127.0.0.1",
                "--conf",
                "spark.sql.shuffle.partitions=4"));
    if (extraConf.length == 0) {
      args.addAll(List.of("--conf", "spark.ui.enabled=false"));
    }
    args.addAll(List.of(extraConf));
    args.add(root.resolve("target/ggda-job.jar").toString());
    args.addAll(cliArgs(out));
    List<String> cmd =
        cluster.javaCommand(
            "2g",
            List.of("-Dlog4j2.configurationFile=" + root.resolve("conf/log4j2.properties").toUri()),
            cluster.sparkJarsClasspath(),
            "org.apache.spark.deploy.SparkSubmit",
            args);
    return cluster.launch(name, cmd);
  }

  void awaitSuccess(Process p, String name) throws Exception {
    awaitExit(p, name, cluster.log(name));
  }

  static void awaitExit(Process p, String name, Path log) throws Exception {
    if (!p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(
          name
              + " did not finish in "
              + RUN_TIMEOUT
              + "; log tail:\n"
              + tail(Files.readString(log)));
    }
    assertEquals(0, p.exitValue(), () -> name + " failed; log tail:\n" + tail(readQuietly(log)));
  }

  /**
   * Polls the driver's REST API until a stage whose name mentions {@code marker} is active and has
   * running tasks; returns its name.
   */
  static String awaitActiveStage(Process driver, int uiPort, String marker, Duration timeout)
      throws Exception {
    String api = "http://127.0.0.1:" + uiPort + "/api/v1/applications";
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!driver.isAlive()) {
        fail(
            "the job finished (code "
                + driver.exitValue()
                + ") before a '"
                + marker
                + "' stage was seen running");
      }
      try {
        for (JsonNode app : StandaloneCluster.getJson(api)) {
          for (JsonNode stage :
              StandaloneCluster.getJson(
                  api + "/" + app.path("id").asText() + "/stages?status=active")) {
            if (stage.path("name").asText().contains(marker)
                && stage.path("numActiveTasks").asInt() > 0) {
              return stage.path("name").asText();
            }
          }
        }
      } catch (IOException e) {
        // The driver's UI is not up yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no running '" + marker + "' stage within " + timeout);
  }

  static String readQuietly(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  static String tail(String s) {
    return s.substring(Math.max(0, s.length() - 6000));
  }
}
