package dev.ggda.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ggda.cli.Main;
import dev.ggda.config.ConfigLoader;
import dev.ggda.spark.Nd4jExecutorPlugin;
import dev.ggda.spark.OffHeapBudget;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** What can be checked of deploy/ and conf/ without a cluster, Airflow or Docker. */
class DeployFilesTest {
  private static final Path ROOT = ConfReferenceTest.ROOT;
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  // ---- helpers

  /** Runs a command in the repository root; returns its exit code and output. */
  private static Map.Entry<Integer, String> run(Map<String, String> env, String... command)
      throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
    return Map.entry(p.exitValue(), out);
  }

  private static List<JsonNode> yamlDocuments(Path file) throws IOException {
    try (MappingIterator<JsonNode> docs =
        YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      return docs.readAll();
    }
  }

  private static Document pom() throws Exception {
    return DocumentBuilderFactory.newInstance()
        .newDocumentBuilder()
        .parse(ROOT.resolve("pom.xml").toFile());
  }

  private static String pomProperty(Document pom, String name) {
    return pom.getElementsByTagName(name).item(0).getTextContent().strip();
  }

  /** The shaded job jar the pom builds, relative to the repository root (target/ggda-job.jar). */
  private static String shadedJar(Document pom) {
    NodeList plugins = pom.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if (plugin
          .getElementsByTagName("artifactId")
          .item(0)
          .getTextContent()
          .equals("maven-shade-plugin")) {
        String out = plugin.getElementsByTagName("outputFile").item(0).getTextContent().strip();
        return out.replace("${project.build.directory}", "target");
      }
    }
    throw new AssertionError("pom.xml has no maven-shade-plugin");
  }

  /** The off-heap check the plugin runs, on these settings; empty when they fit. */
  private static Optional<String> offHeapProblem(Map<String, String> settings, String role) {
    return OffHeapBudget.fromSparkSettings(role, settings).problem();
  }

  private static Map<String, String> properties(Path file) throws IOException {
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(file)) {
      p.load(in);
    }
    Map<String, String> map = new HashMap<>();
    p.stringPropertyNames().forEach(k -> map.put(k, p.getProperty(k).strip()));
    return map;
  }

  // ---- YAML

  @Test
  void everyYamlUnderDeployAndConfParses() throws IOException {
    List<Path> files;
    try (Stream<Path> deploy = Files.walk(ROOT.resolve("deploy"));
        Stream<Path> conf = Files.walk(ROOT.resolve("conf"))) {
      files = Stream.concat(deploy, conf).filter(f -> f.toString().matches(".*\\.ya?ml$")).toList();
    }
    assertTrue(files.size() >= 6, "expected the conf examples and the SparkApplication: " + files);
    for (Path f : files) {
      List<JsonNode> docs = yamlDocuments(f);
      assertFalse(docs.isEmpty(), f + " is empty");
      for (JsonNode doc : docs) {
        assertTrue(doc.isObject(), f + ": a document is not a mapping");
      }
    }
  }

  @Test
  void sparkApplicationHasWhatSparkOperatorV1beta2Requires() throws Exception {
    Path file = ROOT.resolve("deploy/k8s/ggda-sparkapplication.yaml");
    List<JsonNode> docs = yamlDocuments(file);
    JsonNode app =
        docs.stream()
            .filter(d -> d.path("kind").asText().equals("SparkApplication"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no SparkApplication in " + file));
    assertEquals("sparkoperator.k8s.io/v1beta2", app.path("apiVersion").asText());
    assertFalse(app.path("metadata").path("name").asText().isBlank());
    JsonNode spec = app.path("spec");
    // Required by the v1beta2 CRD's schema.
    for (String field :
        List.of("driver", "executor", "mainApplicationFile", "sparkVersion", "type")) {
      assertTrue(spec.hasNonNull(field), "spec." + field + " is required");
    }
    assertTrue(Set.of("Java", "Scala", "Python", "R").contains(spec.path("type").asText()));
    assertTrue(Set.of("cluster", "client").contains(spec.path("mode").asText("cluster")));
    assertEquals(Main.class.getName(), spec.path("mainClass").asText());
    Document pom = pom();
    assertEquals(pomProperty(pom, "spark.version"), spec.path("sparkVersion").asText());
    assertTrue(
        spec.path("sparkVersion").isTextual(), "sparkVersion must be a string, not a number");
    // sparkConf: a map of strings; cores and instances integers >= 1; memory strings.
    for (Iterator<Map.Entry<String, JsonNode>> it = spec.path("sparkConf").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      assertTrue(e.getValue().isTextual(), "sparkConf." + e.getKey() + " must be a string");
    }
    for (String role : List.of("driver", "executor")) {
      JsonNode r = spec.path(role);
      assertTrue(r.path("cores").isInt() && r.path("cores").asInt() >= 1, role + ".cores");
      assertTrue(
          r.path("memory").isTextual() && r.path("memoryOverhead").isTextual(),
          role + ".memory/memoryOverhead");
      for (JsonNode cm : r.path("configMaps")) {
        String name = cm.path("name").asText();
        assertFalse(cm.path("path").asText().isBlank(), role + ".configMaps needs a path");
        assertTrue(
            docs.stream()
                .anyMatch(
                    d ->
                        d.path("kind").asText().equals("ConfigMap")
                            && d.path("metadata").path("name").asText().equals(name)),
            "ConfigMap " + name + " is not defined in " + file);
      }
    }
    assertTrue(spec.path("executor").path("instances").asInt() >= 1);

    // The jar it runs is where the Dockerfile puts it.
    String jar = spec.path("mainApplicationFile").asText();
    assertTrue(jar.startsWith("local://"), jar);
    assertTrue(
        dockerCopies().stream()
            .anyMatch(
                c ->
                    c.destination().equals(jar.substring("local://".length()))
                        && c.sources().contains(shadedJar(pom))),
        "the image has no " + jar);

    // Its ND4J sizing passes the plugin's check, for executors and the (cluster-mode) driver.
    Map<String, String> settings = new HashMap<>();
    spec.path("sparkConf")
        .fields()
        .forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
    for (String role : List.of("driver", "executor")) {
      settings.put("spark." + role + ".memory", spec.path(role).path("memory").asText());
      settings.put(
          "spark." + role + ".memoryOverhead", spec.path(role).path("memoryOverhead").asText());
      assertEquals(Optional.empty(), offHeapProblem(settings, role));
    }
    assertEquals(Nd4jExecutorPlugin.class.getName(), settings.get("spark.plugins"));

    // The run config it mounts is a valid ggda config.
    JsonNode configMap =
        docs.stream()
            .filter(d -> d.path("kind").asText().equals("ConfigMap"))
            .findFirst()
            .orElseThrow();
    String ggdaYaml = configMap.path("data").path("ggda.yaml").asText();
    assertEquals("/etc/ggda/ggda.yaml", spec.path("arguments").get(2).asText());
    ConfigLoader.fromYaml(ggdaYaml, List.of());
  }

  // ---- Dockerfile

  private record Copy(List<String> sources, String destination) {}

  private static List<Copy> dockerCopies() throws IOException {
    List<Copy> copies = new ArrayList<>();
    for (String line : Files.readAllLines(ROOT.resolve("deploy/Dockerfile"))) {
      String[] words = line.strip().split("\\s+");
      if (words.length == 0 || !(words[0].equals("COPY") || words[0].equals("ADD"))) {
        continue;
      }
      List<String> args = new ArrayList<>();
      for (int i = 1; i < words.length; i++) {
        if (words[i].startsWith("--from=")) {
          fail("COPY --from is not expected here: " + line);
        }
        if (!words[i].startsWith("--")) {
          args.add(words[i]);
        }
      }
      assertTrue(args.size() >= 2, "COPY needs a source and a destination: " + line);
      copies.add(new Copy(args.subList(0, args.size() - 1), args.get(args.size() - 1)));
    }
    return copies;
  }

  @Test
  void dockerfileCopiesOnlyRepositoryFilesOrThePomsJar() throws Exception {
    String jar = shadedJar(pom());
    assertEquals("target/ggda-job.jar", jar);
    List<Copy> copies = dockerCopies();
    assertFalse(copies.isEmpty());
    boolean copiesJar = false;
    for (Copy c : copies) {
      for (String source : c.sources()) {
        if (source.equals(jar)) {
          copiesJar = true;
        } else {
          assertTrue(
              Files.exists(ROOT.resolve(source)),
              "Dockerfile copies "
                  + source
                  + ", which is neither in the repository nor built by the pom");
        }
      }
    }
    assertTrue(copiesJar, "the image must contain " + jar);
    String dockerfile = Files.readString(ROOT.resolve("deploy/Dockerfile"));
    Matcher base = Pattern.compile("ARG SPARK_IMAGE=\\S*:(\\S+)").matcher(dockerfile);
    assertTrue(base.find());
    assertTrue(
        base.group(1)
            .startsWith(
                pomProperty(pom(), "spark.version")
                    + "-scala"
                    + pomProperty(pom(), "scala.binary.version")),
        "base image " + base.group(1) + " does not match the pom's Spark and Scala versions");
  }

  // ---- spark-defaults and submit scripts

  @ParameterizedTest
  @ValueSource(strings = {"small", "medium", "large", "gpu"})
  void sparkDefaultsParseAndPassThePluginsOwnCheck(String size) throws IOException {
    Map<String, String> settings =
        properties(ROOT.resolve("conf/spark-defaults-" + size + ".conf"));
    assertEquals(Nd4jExecutorPlugin.class.getName(), settings.get("spark.plugins"));
    for (String role : List.of("executor", "driver")) {
      assertEquals(Optional.empty(), offHeapProblem(settings, role), size + " " + role);
      // Off-heap caps explicitly set, not JavaCPP's heap-sized defaults.
      String options = settings.get("spark." + role + ".extraJavaOptions");
      assertTrue(
          options.contains("-Dorg.bytedeco.javacpp.maxbytes=")
              && options.contains("-Dorg.bytedeco.javacpp.maxphysicalbytes="),
          options);
    }
    // One ND4J thread per task slot, as the plugin sets it.
    assertEquals(
        settings.getOrDefault("spark.task.cpus", "1"),
        settings.get("spark.executorEnv.OMP_NUM_THREADS"));
    if (size.equals("gpu")) {
      double perTask = Double.parseDouble(settings.get("spark.task.resource.gpu.amount"));
      int cores = Integer.parseInt(settings.get("spark.executor.cores"));
      assertEquals(
          Double.parseDouble(settings.get("spark.executor.resource.gpu.amount")),
          perTask * cores,
          1e-9,
          "every task slot of an executor shares its GPUs");
      assertTrue(
          settings
              .get("spark.executor.resource.gpu.discoveryScript")
              .endsWith("deploy/gpu-discovery.sh"));
      // The discovery script's addresses are nvidia-smi indices; tasks open them as CUDA ordinals.
      assertEquals("PCI_BUS_ID", settings.get("spark.executorEnv.CUDA_DEVICE_ORDER"));
    }
  }

  @Test
  void scriptsAreValidBashAndTheSubmitExamplesFollowTheLauncher() throws Exception {
    try (Stream<Path> files = Files.list(ROOT.resolve("deploy"))) {
      for (Path script :
          files
              .filter(
                  f ->
                      f.toString().endsWith(".sh")
                          || f.getFileName().toString().equals("ggda")
                          || f.getFileName().toString().equals("gpu-check"))
              .toList()) {
        Map.Entry<Integer, String> r = run(Map.of(), "bash", "-n", script.toString());
        assertEquals(0, r.getKey(), script + ": " + r.getValue());
        assertTrue(Files.isExecutable(script), script + " is not executable");
      }
    }
    String yarn = Files.readString(ROOT.resolve("deploy/submit-yarn.sh"));
    assertTrue(yarn.contains("--master yarn --deploy-mode cluster"));
    for (String script : List.of("submit-yarn.sh", "submit-standalone.sh")) {
      String text = Files.readString(ROOT.resolve("deploy/" + script));
      assertTrue(text.contains("--class dev.ggda.cli.Main \"$jar\""), script);
      assertTrue(text.contains("jar=\"$root/" + shadedJar(pom()) + "\""), script);
      assertTrue(
          text.contains(
              "--properties-file \"$root/conf/spark-defaults-$size.conf\" --load-spark-defaults"),
          script);
      Matcher size = Pattern.compile("GGDA_CLUSTER_SIZE:-(\\w+)").matcher(text);
      assertTrue(size.find(), script);
      assertTrue(
          Files.exists(ROOT.resolve("conf/spark-defaults-" + size.group(1) + ".conf")), script);
    }
  }

  @Test
  void gpuDiscoveryScriptPrintsWhatSparkParses(@TempDir Path bin) throws Exception {
    Path fake = bin.resolve("nvidia-smi");
    Files.writeString(fake, "#!/bin/sh\nprintf '0\\n1\\n'\n");
    assertTrue(fake.toFile().setExecutable(true));
    Map.Entry<Integer, String> r =
        run(Map.of("PATH", bin + ":" + System.getenv("PATH")), "bash", "deploy/gpu-discovery.sh");
    assertEquals(0, r.getKey(), r.getValue());
    ResourceInformation gpus = ResourceInformation.parseJson(r.getValue().strip());
    assertEquals("gpu", gpus.name());
    assertEquals(List.of("0", "1"), List.of(gpus.addresses()));
  }

  @Test
  void gpuCheckIsDocumentedAsTheCommandItRunsAndItsTorchReferenceCompiles(@TempDir Path tmp)
      throws Exception {
    String script = Files.readString(ROOT.resolve("deploy/gpu-check"));
    String readme = Files.readString(ROOT.resolve("deploy/README.md"));
    assertTrue(
        script.contains("dir=\"$root/target/gpu-check\""), "gpu-check builds target/gpu-check");
    assertTrue(
        readme.contains("run(command=\"deploy/gpu-check run\", carry=[\"target/gpu-check\"]"),
        "deploy/README.md gives the device-run command with the folder gpu-check builds");
    Map.Entry<Integer, String> usage = run(Map.of(), "bash", "deploy/gpu-check");
    assertEquals(2, usage.getKey(), usage.getValue());
    assertTrue(usage.getValue().contains("usage: deploy/gpu-check build"), usage.getValue());
    Map.Entry<Integer, String> r =
        run(
            Map.of(),
            "python3",
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            "deploy/gpu-check-torch.py",
            tmp.resolve("torch.pyc").toString());
    assertEquals(0, r.getKey(), r.getValue());
  }

  // ---- Airflow

  @Test
  void airflowDagCompiles(@TempDir Path tmp) throws Exception {
    // python3 -m py_compile, with the bytecode kept out of the repository.
    Map.Entry<Integer, String> r =
        run(
            Map.of(),
            "python3",
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            "deploy/airflow/ggda_dag.py",
            tmp.resolve("dag.pyc").toString());
    assertEquals(0, r.getKey(), r.getValue());
  }

  @Test
  void airflowDagSizesNd4jLikeTheOtherExamplesAndIsolatesRuns() throws Exception {
    // Airflow cannot be installed here: read the DAG's constants with Python's own parser.
    String script =
        String.join(
            "\n",
            "import ast, json, sys",
            "tree = ast.parse(open(sys.argv[1]).read())",
            "out = {}",
            "for node in tree.body:",
            "    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):",
            "        name = node.targets[0].id",
            "        if name == 'SPARK_CONF':",
            "            out[name] = ast.literal_eval(node.value)",
            "        elif name in ('OUTPUT_ROOT',):",
            "            out[name] = ast.literal_eval(node.value)",
            "print(json.dumps(out))");
    Map.Entry<Integer, String> r =
        run(Map.of(), "python3", "-c", script, "deploy/airflow/ggda_dag.py");
    assertEquals(0, r.getKey(), r.getValue());
    JsonNode constants = new ObjectMapper().readTree(r.getValue());
    Map<String, String> conf = new HashMap<>();
    constants
        .path("SPARK_CONF")
        .fields()
        .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
    assertEquals("cluster", conf.get("spark.submit.deployMode"));
    assertEquals(Nd4jExecutorPlugin.class.getName(), conf.get("spark.plugins"));
    assertEquals(Optional.empty(), offHeapProblem(conf, "executor"));
    assertEquals(Optional.empty(), offHeapProblem(conf, "driver"));
    String dag = Files.readString(ROOT.resolve("deploy/airflow/ggda_dag.py"));
    assertTrue(
        dag.contains("OUTPUT = OUTPUT_ROOT + \"/{{ ds }}\""), "one output folder per run date");
    assertTrue(dag.contains("\"output.path=\" + OUTPUT") && dag.contains("OUTPUT + \"/_SUCCESS\""));
    assertTrue(dag.contains("java_class=\"dev.ggda.cli.Main\""));
    Matcher retries = Pattern.compile("\"retries\": (\\d+)").matcher(dag);
    assertTrue(retries.find() && Integer.parseInt(retries.group(1)) >= 1, "the Spark task retries");
  }

  // ---- the job's side of the YARN contract

  @Test
  void mainReturnsAfterSuccessInsteadOfExiting() {
    // YARN cluster mode reports System.exit(0) as a failure; had main exited, this JVM would be
    // gone.
    Main.main(new String[] {"--version"});
  }
}
