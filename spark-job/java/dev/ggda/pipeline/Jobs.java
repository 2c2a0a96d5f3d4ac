package dev.ggda.pipeline;

import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.spark.Sessions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** What each CLI subcommand runs, given a validated config. */
public final class Jobs {
  /** Where Debian's dataset-fashion-mnist package puts the IDX files. */
  public static final String FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

  private Jobs() {}

  /** How far a command goes through the stages. */
  enum Until {
    TRAIN,
    GROUP,
    ATTRIBUTE,
    EVALUATE
  }

  /**
   * Every stage of run, then fidelity by retraining: writes evaluation/ besides the run's tables.
   */
  public static void evaluate(GgdaConfig config) {
    Pipeline.requireAllPairs(config);
    execute(config, "evaluate", Until.EVALUATE);
  }

  /** Every stage: load, train (or load the model), group, featurize, attribute, write. */
  public static void run(GgdaConfig config) {
    execute(config, "run", Until.ATTRIBUTE);
  }

  /** Loads and validates the data, trains the model and writes model/ and run.json. */
  public static void train(GgdaConfig config) {
    execute(config, "train", Until.TRAIN);
  }

  /** Load, model, grouping: writes groups/ and group_stats/ besides model/ and run.json. */
  public static void group(GgdaConfig config) {
    execute(config, "group", Until.GROUP);
  }

  /** Load, model, grouping and attribution (scores/, group_values/, self_influence/). */
  public static void attribute(GgdaConfig config) {
    execute(config, "attribute", Until.ATTRIBUTE);
  }

  /** Loads and validates the inputs and the model file, writes nothing. */
  public static void validate(GgdaConfig config) {
    SparkSession spark = Sessions.getOrCreate("ggda validate");
    Console console = Console.progress();
    Pipeline p = new Pipeline(spark, config, "validate", console);
    p.load();
    if (config.model().load() != null) {
      ModelLoading.load(spark, config.model().load(), p.trainData());
    }
    console.info("validate: inputs are valid");
  }

  /**
   * The demo: Fashion-MNIST when Debian's dataset-fashion-mnist is installed (otherwise the
   * synthetic mixture), the default MLP, output under {@code outDir}.
   */
  public static void demo(String configPath, List<String> sets, String outDir) {
    Console console = Console.progress();
    String base;
    if (configPath != null) {
      base = readFile(configPath);
    } else if (Files.exists(Path.of(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz"))) {
      base = resource("/dev/ggda/config/demo-fashion-mnist.yaml");
      console.info("demo: Fashion-MNIST from %s", FASHION_MNIST_DIR);
    } else {
      base = resource("/dev/ggda/config/demo-synthetic.yaml");
      console.info(
          "demo: %s not found, using the synthetic Gaussian mixture instead;"
              + " `apt-get install dataset-fashion-mnist` gets the real data",
          FASHION_MNIST_DIR);
    }
    List<String> all = new ArrayList<>();
    all.add("output.mode=overwrite");
    all.addAll(sets);
    all.add("output.path=" + outDir);
    GgdaConfig config = ConfigLoader.fromYaml(base, all);
    String where = execute(config, "demo", Until.ATTRIBUTE);
    DemoSummary.print(
        Sessions.getOrCreate("ggda demo"), where, config.output().format(), console, 3, 3);
    console.info(
        "demo: done. Everything is under %s: model/, groups/, group_stats/, scores/, group_values/,"
            + " self_influence/, run.json",
        where);
  }

  static String execute(GgdaConfig config, String command, Until until) {
    return Runs.execute(
        config,
        command,
        (p, out) -> {
          p.obtainModel(out);
          if (until != Until.TRAIN) {
            p.group(out);
          }
          if (until == Until.ATTRIBUTE || until == Until.EVALUATE) {
            p.attribute(out);
          }
          if (until == Until.EVALUATE) {
            p.evaluate(out);
          }
        });
  }

  private static String resource(String name) {
    try (InputStream in = Jobs.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " missing from the ggda jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readFile(String path) {
    try {
      return Files.readString(Path.of(path));
    } catch (IOException e) {
      throw new dev.ggda.InputException(
          "config file not found: " + path + "; pass an existing YAML file with --config");
    }
  }
}
