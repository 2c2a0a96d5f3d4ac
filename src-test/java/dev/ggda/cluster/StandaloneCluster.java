package dev.ggda.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster of separate JVMs on 127.0.0.1 for integration tests: one master and
 * some workers, started from the Spark jars of the build (target/spark-classpath.txt) laid out as a
 * Spark install ({@code SPARK_HOME/jars}), the way a real cluster has them. Every process it starts
 * (and every child, such as the executors a worker launches) is killed by {@link #close()}.
 */
final class StandaloneCluster implements AutoCloseable {
  static final String MASTER_CLASS = "org.apache.spark.deploy.master.Master";
  static final String WORKER_CLASS = "org.apache.spark.deploy.worker.Worker";

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final Path sparkHome;
  final int masterPort;
  final int masterUiPort;
  private final List<Process> workers = new ArrayList<>();
  private final List<Process> daemons = new ArrayList<>();
  private final List<Process> started = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::killAll, "standalone-cluster-teardown");

  /** Lays out SPARK_HOME under {@code dir} and starts the master and {@code workers} workers. */
  StandaloneCluster(
      Path dir,
      Path sparkClasspathFile,
      int workerCount,
      int coresPerWorker,
      String memoryPerWorker)
      throws IOException {
    this.dir = dir;
    this.sparkHome = layOutSparkHome(dir.resolve("spark-home"), sparkClasspathFile);
    this.masterPort = freePort();
    this.masterUiPort = freePort();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    daemons.add(
        start(
            "master",
            MASTER_CLASS,
            "256m",
            List.of(
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(masterPort),
                "--webui-port",
                String.valueOf(masterUiPort))));
    for (int i = 0; i < workerCount; i++) {
      Path workDir = Files.createDirectories(dir.resolve("worker-" + i));
      workers.add(
          start(
              "worker-" + i,
              WORKER_CLASS,
              "256m",
              List.of(
                  "--host",
                  "127.0.0.1",
                  "--cores",
                  String.valueOf(coresPerWorker),
                  "--memory",
                  memoryPerWorker,
                  "--webui-port",
                  String.valueOf(freePort()),
                  "--work-dir",
                  workDir.toString(),
                  masterUrl())));
    }
    daemons.addAll(workers);
  }

  String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /**
   * The Spark jars as a Spark install has them, one symlink per jar of the build's Spark classpath.
   */
  private static Path layOutSparkHome(Path home, Path sparkClasspathFile) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    Files.createDirectories(home.resolve("conf"));
    Set<String> names = new HashSet<>();
    for (String entry : Files.readString(sparkClasspathFile).trim().split(":")) {
      Path jar = Path.of(entry);
      String name = jar.getFileName().toString();
      if (!names.add(name)) {
        name =
            jar.getParent().getParent().getFileName() + "-" + name; // same file name, other group
        names.add(name);
      }
      Files.createSymbolicLink(jars.resolve(name), jar);
    }
    return home;
  }

  /** The JVM command for a Spark class run from SPARK_HOME/jars, with Spark's Java 17 options. */
  List<String> javaCommand(
      String heap, List<String> jvmOptions, String classpath, String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.addAll(sparkJvmOptions());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }

  String sparkJarsClasspath() {
    return sparkHome.resolve("jars") + "/*";
  }

  /**
   * The options Spark's launcher passes to its JVMs on Java 17, as the test JVM got them from the
   * pom.
   */
  static List<String> sparkJvmOptions() {
    List<String> opts = new ArrayList<>();
    for (String arg :
        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-")
          || arg.startsWith("-XX:+IgnoreUnrecognized")
          || arg.startsWith("-Dio.netty")
          || arg.startsWith("-Djdk.reflect")) {
        opts.add(arg);
      }
    }
    return opts;
  }

  /** Environment of every process: loopback only, one BLAS thread, this SPARK_HOME. */
  void environment(Map<String, String> env) {
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_CONF_DIR", sparkHome.resolve("conf").toString());
    // The worker's launcher needs the Scala version to build the executor command without a Spark
    // build tree.
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("OMP_NUM_THREADS", "1");
    pinOpenBlasCoreType(env);
    env.remove("SPARK_DIST_CLASSPATH");
    env.remove("HADOOP_CONF_DIR");
  }

  /**
   * Every process of a comparison must run the same OpenBLAS kernels (float sums differ between
   * them): the core type deploy/ggda would pick (Haswell on AVX2 machines) unless one is set.
   */
  static void pinOpenBlasCoreType(Map<String, String> env) {
    String set = System.getenv("OPENBLAS_CORETYPE");
    if (set != null && !set.isEmpty()) {
      env.put("OPENBLAS_CORETYPE", set);
      return;
    }
    try {
      String flags =
          java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
              .filter(l -> l.startsWith("flags"))
              .findFirst()
              .orElse("");
      if ((flags + " ").contains(" avx2 ")) {
        env.put("OPENBLAS_CORETYPE", "Haswell");
      }
    } catch (IOException e) {
      // no /proc/cpuinfo: leave OpenBLAS to detect the core, as the launcher does
    }
  }

  private Process start(String name, String mainClass, String heap, List<String> args)
      throws IOException {
    return launch(name, javaCommand(heap, List.of(), sparkJarsClasspath(), mainClass, args));
  }

  /** Starts a process of this cluster (logged to {@code dir/name.log}); close() kills it. */
  Process launch(String name, List<String> command) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".log").toFile());
    environment(pb.environment());
    Process p = pb.start();
    synchronized (started) {
      started.add(p);
    }
    return p;
  }

  Path log(String name) {
    return dir.resolve(name + ".log");
  }

  /** Waits until the master's JSON status lists {@code alive} live workers. */
  void awaitWorkers(int alive, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      for (Process p : daemons) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "the master or a worker exited (code " + p.exitValue() + "); logs in " + dir);
        }
      }
      try {
        JsonNode status = getJson("http://127.0.0.1:" + masterUiPort + "/json/");
        last = status.toString();
        if (status.path("aliveworkers").asInt(-1) == alive) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException(
        "standalone master not ready with " + alive + " workers: " + last + "; logs in " + dir);
  }

  static JsonNode getJson(String url) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (r.statusCode() != 200) {
      throw new IOException(url + " answered " + r.statusCode());
    }
    return JSON.readTree(r.body());
  }

  /** Kills worker {@code index} like a lost machine: its executors first, then the worker JVM. */
  void killWorker(int index) throws InterruptedException {
    kill(workers.get(index));
  }

  private static void kill(Process p) throws InterruptedException {
    List<ProcessHandle> children = p.descendants().toList();
    children.forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
    for (ProcessHandle c : children) {
      c.onExit().completeOnTimeout(c, 30, TimeUnit.SECONDS).join();
    }
  }

  private void killAll() {
    List<Process> all;
    synchronized (started) {
      all = new ArrayList<>(started);
      started.clear();
    }
    // Last started first: drivers and workers before the master.
    for (int i = all.size() - 1; i >= 0; i--) {
      try {
        kill(all.get(i));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook runs anyway.
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
