package dev.ggda.cli;

import dev.ggda.InputException;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.Damping;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GridSpec;
import dev.ggda.config.GroupMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionConfig;
import dev.ggda.config.ProjectionKind;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code ggda} command line. Exit codes: 0 success; 2 a usage error or an {@link
 * InputException} (one line on stderr: {@code ggda: error: ...}); 1 anything else ({@code ggda:
 * failed: ...} and the stack trace).
 */
@Command(
    name = "ggda",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    subcommands = CommandLine.HelpCommand.class,
    description =
        "Group data attribution on Apache Spark: how much did each group of training examples "
            + "contribute to each target?",
    footer = {
      "",
      "Exit codes: 0 success, 1 failure, 2 bad usage or bad input (config, data, paths)."
    })
public final class Main implements Callable<Integer> {
  static final int EXIT_FAILURE = 1;
  static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    int code = execute(args);
    // YARN cluster mode reports an application that calls System.exit(0) as failed: just return.
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs the command line and returns its exit code; never exits the JVM. */
  public static int execute(String... args) {
    return execute(JobRunner.PIPELINE, args);
  }

  static int execute(JobRunner jobs, String... args) {
    return commandLine(jobs).execute(args);
  }

  static CommandLine commandLine(JobRunner jobs) {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand(new Demo(jobs));
    cl.addSubcommand(new Run(jobs));
    cl.addSubcommand(new Train(jobs));
    cl.addSubcommand(new Group(jobs));
    cl.addSubcommand(new Attribute(jobs));
    cl.addSubcommand(new Evaluate(jobs));
    cl.addSubcommand(new BenchmarkCommand(jobs));
    cl.addSubcommand(new Prune(jobs));
    cl.addSubcommand(new DetectNoise(jobs));
    cl.addSubcommand(new Validate(jobs));
    cl.addSubcommand(new StressNative(jobs));
    // Set after adding subcommands: picocli copies these settings to the subcommands present now.
    cl.setParameterExceptionHandler(Main::onUsageError);
    cl.setExecutionExceptionHandler(Main::onFailure);
    return cl;
  }

  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(),
        "missing subcommand: demo, run, train, group, attribute, evaluate,"
            + " validate, benchmark, prune, detect-noise or stress-native");
  }

  private static int onUsageError(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("ggda: error: " + oneLine(ex.getMessage()));
    UnmatchedArgumentException.printSuggestions(ex, err);
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
    err.flush();
    return EXIT_USAGE;
  }

  private static int onFailure(Exception ex, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    InputException input = inputCause(ex);
    if (input != null) {
      // A user error: the message says what to fix; a stack trace would only hide it.
      err.println("ggda: error: " + oneLine(input.getMessage()));
      err.flush();
      return EXIT_USAGE;
    }
    String message = ex.getMessage() == null ? ex.getClass().getName() : ex.getMessage();
    err.println("ggda: failed: " + oneLine(message));
    ex.printStackTrace(err);
    err.flush();
    return EXIT_FAILURE;
  }

  /**
   * An InputException may arrive wrapped (by a lambda, a Future, a Spark task); the user still
   * caused it.
   */
  private static InputException inputCause(Throwable ex) {
    int depth = 0; // a cause chain can be cyclic
    for (Throwable t = ex; t != null && depth++ < 64; t = t.getCause()) {
      if (t instanceof InputException input) {
        return input;
      }
    }
    return null;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  // ---- subcommands

  @Command(
      name = "demo",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Self-contained demo: Fashion-MNIST when Debian's dataset-fashion-mnist is installed (else a seeded"
              + " synthetic mixture, and it says so), train, group, attribute and report, written under --out."
              + " --config and --set adjust the demo's own settings.")
  static final class Demo implements Callable<Integer> {
    private final JobRunner jobs;

    @Mixin ConfigOptions config;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        defaultValue = "out/demo",
        description = "Output folder (default: ${DEFAULT-VALUE}).")
    String out;

    Demo(JobRunner jobs) {
      this.jobs = jobs;
    }

    @Override
    public Integer call() {
      // The demo starts from its own settings, so it resolves the config itself.
      jobs.demo(config.configFile, List.copyOf(config.sets), out);
      return 0;
    }
  }

  /** A subcommand that loads the config (-c, --set) and starts one job with it. */
  abstract static class StageCommand implements Callable<Integer> {
    private final JobRunner jobs;

    @Mixin ConfigOptions config;

    StageCommand(JobRunner jobs) {
      this.jobs = jobs;
    }

    abstract void start(JobRunner jobs, GgdaConfig config);

    @Override
    public Integer call() {
      start(jobs, config.load());
      return 0;
    }
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "The whole pipeline: load data, train (or load) the model, group, attribute, write the tables.")
  static final class Run extends StageCommand {
    Run(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.run(config);
    }
  }

  @Command(
      name = "train",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Train the model only, saving checkpoints and ensemble members under output.path/model.")
  static final class Train extends StageCommand {
    Train(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.train(config);
    }
  }

  @Command(
      name = "group",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Load data, train (or load) the model and assign groups: writes groups/ and group_stats/.")
  static final class Group extends StageCommand {
    Group(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.group(config);
    }
  }

  @Command(
      name = "attribute",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Group and attribute: writes scores/, group_values/ and self_influence/ besides the group tables.")
  static final class Attribute extends StageCommand {
    Attribute(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.attribute(config);
    }
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description = "Check the config and the input data (schemas and values) without heavy work.")
  static final class Validate extends StageCommand {
    Validate(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.validate(config);
    }
  }

  @Command(
      name = "stress-native",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description = {
        "Stress the native side (ND4J, OpenBLAS) where it once crashed: rounds of child JVMs, each running Spark with"
            + " --tasks concurrent tasks, a projection cache that holds one P (concurrent featurize tasks evict each"
            + " other's), and a full GC every --gc-interval-ms; each iteration featurizes and scores attribute.method and"
            + " TracIn over every checkpoint, and the scores must agree across iterations and rounds.",
        "Writes output.path/round-N/ (child log, hs_err logs, scores) and output.path/stress-native.json; exit 1 when a"
            + " round crashed or disagreed."
      })
  static final class StressNative extends StageCommand {
    @Option(
        names = "--rounds",
        defaultValue = "20",
        description = "Child JVMs, one after another (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
        names = "--iterations",
        defaultValue = "5",
        description = "Featurize-and-score iterations per round (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(
        names = "--tasks",
        defaultValue = "2",
        description = "Concurrent Spark tasks per round (default: ${DEFAULT-VALUE}).")
    int tasks;

    @Option(
        names = "--gc-interval-ms",
        defaultValue = "50",
        description =
            "Milliseconds between forced full GCs in a round (default: ${DEFAULT-VALUE}).")
    int gcIntervalMs;

    @Option(names = "--child", hidden = true, description = "Internal: run one round in this JVM.")
    Integer child;

    StressNative(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      for (int[] v : new int[][] {{rounds, 1}, {iterations, 1}, {tasks, 2}, {gcIntervalMs, 1}}) {
        if (v[0] < v[1]) {
          throw new InputException(
              "stress-native: --rounds, --iterations and --gc-interval-ms must be >= 1 and --tasks >= 2;"
                  + " got "
                  + rounds
                  + ", "
                  + iterations
                  + ", "
                  + gcIntervalMs
                  + " and "
                  + tasks);
        }
      }
      if (child != null) {
        jobs.stressNativeRound(config, iterations, gcIntervalMs);
      } else {
        jobs.stressNative(config, rounds, iterations, tasks, gcIntervalMs);
      }
    }
  }

  @Command(
      name = "evaluate",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description = {
        "Fidelity by retraining: everything `run` does, then LDS, group LDS, counterfactual removal and/or"
            + " leave-one-group-out (evaluate.metrics) against models retrained with train.* on subsets; writes evaluation/.",
        "With --methods, --groupings or --group-sizes: the efficiency-fidelity table instead, one row per method x"
            + " grouping x group size (evaluation/efficiency_fidelity/)."
      })
  static final class Evaluate extends StageCommand {
    @Option(
        names = "--methods",
        split = ",",
        paramLabel = "METHOD",
        description =
            "Attribution methods of the table (trak, tracin, if, graddot); default: attribute.method.")
    List<String> methods;

    @Option(
        names = "--groupings",
        split = ",",
        paramLabel = "GROUPING",
        description =
            "Group methods of the table (random, label, kmeans-input, kmeans-repr, kmeans-grad); default: group.method.")
    List<String> groupings;

    @Option(
        names = "--group-sizes",
        split = ",",
        paramLabel = "SIZE",
        description =
            "Group sizes of the table; 1 (per-example, the speedup baseline) is always included; default: 1 and group.size.")
    List<Integer> groupSizes;

    @Option(
        names = "--projections",
        split = ",",
        paramLabel = "KIND:DIM",
        description =
            "Projections of the table, e.g. rademacher:512,rademacher:2048,factored:2048; each method runs with"
                + " each (own per-example baseline); default: attribute.projection.")
    List<String> projections;

    @Option(
        names = "--kernels",
        split = ",",
        paramLabel = "KERNEL",
        description =
            "TRAK kernels of the table (exact, batched, sampled, group); the first is the speedup"
                + " baseline; default: attribute.kernel.")
    List<String> kernels;

    @Option(
        names = "--hessians",
        split = ",",
        paramLabel = "HESSIAN",
        description =
            "IF Hessians of the table (exact, cg, projected, group); the first is the speedup"
                + " baseline; default: attribute.hessian.")
    List<String> hessians;

    @Option(
        names = "--dampings",
        split = ",",
        paramLabel = "LAMBDA",
        description =
            "Dampings of the table: absolute (attribute.damping), or with an x suffix relative to the mean"
                + " eigenvalue (attribute.relative_damping), e.g. 0,1000,0.5x; each method featurizes once per cell and solves"
                + " once per damping; default: the configured dampings.")
    List<String> dampings;

    Evaluate(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      if (methods == null
          && groupings == null
          && groupSizes == null
          && projections == null
          && kernels == null
          && hessians == null
          && dampings == null) {
        jobs.evaluate(config);
        return;
      }
      List<AttributionMethod> m =
          methods == null
              ? List.of(config.attribute().method())
              : parse("--methods", methods, AttributionMethod.class);
      if (m.contains(AttributionMethod.GRADCOS)) {
        throw new InputException(
            "--methods: gradcos scores are not additive over examples, so LDS is undefined for them; drop gradcos");
      }
      List<GroupMethod> g =
          groupings == null
              ? List.of(config.group().method())
              : parse("--groupings", groupings, GroupMethod.class);
      // Size 1 first (every speedup is measured against it), then in the order given.
      java.util.LinkedHashSet<Integer> sizes = new java.util.LinkedHashSet<>(List.of(1));
      for (int size : groupSizes == null ? List.of(config.group().size()) : groupSizes) {
        if (size < 1) {
          throw new InputException("--group-sizes: sizes must be >= 1, got " + size);
        }
        sizes.add(size);
      }
      jobs.evaluateGrid(
          config,
          new GridSpec(
              m,
              projections(config, projections),
              kernels == null
                  ? List.of(config.attribute().kernel())
                  : parse("--kernels", kernels, KernelMode.class),
              hessians == null
                  ? List.of(config.attribute().hessian())
                  : parse("--hessians", hessians, HessianMode.class),
              dampings(config, dampings),
              g,
              List.copyOf(sizes)));
    }

    /** The dampings in the order given (duplicates dropped), or the configured pair alone. */
    private static List<Damping> dampings(GgdaConfig config, List<String> values) {
      if (values == null) {
        return List.of(Damping.of(config.attribute()));
      }
      java.util.LinkedHashSet<Damping> out = new java.util.LinkedHashSet<>();
      for (String raw : values) {
        String v = raw.strip();
        boolean relative = v.endsWith("x") || v.endsWith("X");
        double d;
        try {
          d = Double.parseDouble(relative ? v.substring(0, v.length() - 1) : v);
        } catch (NumberFormatException e) {
          d = Double.NaN;
        }
        if (!(d >= 0) || Double.isInfinite(d)) {
          throw new InputException(
              "--dampings: '"
                  + v
                  + "' is not a damping; write a number >= 0 (absolute) or one with an"
                  + " x suffix (relative to the mean eigenvalue), e.g. 0,1000,0.5x");
        }
        out.add(relative ? new Damping(0, d) : new Damping(d, 0));
      }
      return List.copyOf(out);
    }

    /** kind:dim pairs (seed from attribute.projection), or the configured projection alone. */
    private static List<ProjectionConfig> projections(GgdaConfig config, List<String> specs) {
      ProjectionConfig base = config.attribute().projection();
      if (specs == null) {
        return List.of(base);
      }
      List<ProjectionConfig> out = new java.util.ArrayList<>();
      for (String spec : specs) {
        String[] parts = spec.strip().split(":");
        int dim;
        try {
          dim = parts.length == 2 ? Integer.parseInt(parts[1].strip()) : -1;
        } catch (NumberFormatException e) {
          dim = -1;
        }
        if (dim < 1) {
          throw new InputException(
              "--projections: '"
                  + spec
                  + "' is not KIND:DIM; write e.g. rademacher:2048 (dim >= 1)");
        }
        ProjectionKind kind =
            parse("--projections", List.of(parts[0]), ProjectionKind.class).get(0);
        ProjectionConfig p = new ProjectionConfig(kind, dim, base.seed());
        if (!out.contains(p)) {
          out.add(p);
        }
      }
      return out;
    }

    private static <E extends Enum<E>> List<E> parse(
        String option, List<String> words, Class<E> type) {
      List<E> out = new java.util.ArrayList<>();
      for (String w : words) {
        try {
          E e = Enum.valueOf(type, w.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
          if (!out.contains(e)) {
            out.add(e);
          }
        } catch (IllegalArgumentException ex) {
          List<String> names = new java.util.ArrayList<>();
          for (E c : type.getEnumConstants()) {
            names.add(c.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
          }
          throw new InputException(
              option + ": unknown value '" + w + "'; use one of " + String.join(", ", names));
        }
      }
      return out;
    }
  }

  @Command(
      name = "benchmark",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Attribution wall time (featurize + kernel + score) at several group sizes on one model;"
              + " prints a table and writes output.path/benchmark.json.")
  static final class BenchmarkCommand extends StageCommand {
    @Option(
        names = "--group-sizes",
        split = ",",
        description =
            "Group sizes to time, comma-separated (default: 1,16,64,256; with --rows: group.size); 1 is the"
                + " per-example baseline.")
    List<Integer> groupSizes;

    @Option(
        names = "--rows",
        split = ",",
        description =
            "Scaling mode: run the whole pipeline on the synthetic training set (data.train.format: synthetic)"
                + " at each of these sizes, e.g. 1000000,3000000,10000000, at the one group size of --group-sizes or"
                + " group.size; prints cost per row and peak heap per size and writes output.path/scaling.json.")
    List<Long> rows;

    @Option(
        names = "--incremental",
        description =
            "Incremental mode: write the synthetic training set as a Parquet table that grows this many times"
                + " by --growth of its first size (one folder per day, new sources each day), and after each"
                + " day score it with incremental.store and with a full run; prints both attribution times"
                + " and how far apart the scores are, and writes output.path/incremental.json.")
    Integer incremental;

    @Option(
        names = "--growth",
        defaultValue = "0.1",
        description =
            "With --incremental: rows each day adds, as a fraction of the first day's (default 0.1).")
    double growth;

    BenchmarkCommand(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      List<Integer> sizes =
          groupSizes != null
              ? groupSizes
              : rows != null || incremental != null
                  ? List.of(config.group().size())
                  : List.of(1, 16, 64, 256);
      for (int size : sizes) {
        if (size < 1) {
          throw new InputException("--group-sizes: sizes must be >= 1, got " + size);
        }
      }
      if (incremental != null) {
        if (incremental < 1 || !(growth > 0)) {
          throw new InputException(
              "--incremental: give the number of growth steps (>= 1) and --growth > 0, got "
                  + incremental
                  + " and "
                  + growth);
        }
        jobs.benchmarkIncremental(
            config.withGroup(config.group().with(config.group().method(), sizes.get(0), null)),
            incremental,
            growth);
        return;
      }
      if (rows != null) {
        for (long n : rows) {
          if (n < 2) {
            throw new InputException("--rows: sizes must be >= 2, got " + n);
          }
        }
        if (sizes.size() != 1) {
          throw new InputException(
              "--rows: give at most one group size with it (--group-sizes 100), got " + sizes);
        }
        jobs.benchmarkRows(
            config.withGroup(config.group().with(config.group().method(), sizes.get(0), null)),
            List.copyOf(rows));
        return;
      }
      jobs.benchmark(config, List.copyOf(sizes));
    }
  }

  @Command(
      name = "prune",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Attribute on the targets (the validation set), drop the lowest-valued groups until prune.fraction of the"
              + " examples is gone, and write the pruned training set (input format), manifest and summary under output.path/prune.")
  static final class Prune extends StageCommand {
    @Option(
        names = "--validate",
        description =
            "Also retrain on attribution-pruned, randomly pruned, baseline-pruned (prune.validate_baselines) and"
                + " full data (prune.validate_fractions, prune.validate_seeds) and write test accuracy mean and std to"
                + " prune/validation.")
    boolean validate;

    @Option(
        names = "--inject-noise",
        description =
            "Evaluation mode: flip noise.inject_fraction of the training labels (noise.inject_kind, noise.seed) first;"
                + " the summary counts the flipped examples pruning drops, --validate adds the oracle that drops exactly"
                + " them, and no pruned data is written.")
    boolean inject;

    Prune(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.prune(config, validate, inject);
    }
  }

  @Command(
      name = "detect-noise",
      mixinStandardHelpOptions = true,
      versionProvider = VersionInfo.class,
      description =
          "Rank training groups, and the examples inside them, as likely mislabeled (noise.signal, noise.example_signal);"
              + " writes noise/ranked_groups and noise/ranked_examples.")
  static final class DetectNoise extends StageCommand {
    @Option(
        names = "--inject-noise",
        description =
            "Evaluation mode: flip noise.inject_fraction of the training labels (noise.inject_kind, noise.seed) first,"
                + " and write the recall of the flipped labels against the fraction inspected (noise/curve, noise/summary)"
                + " for group and per-example attribution, each per-example signal alone and random order.")
    boolean inject;

    DetectNoise(JobRunner jobs) {
      super(jobs);
    }

    @Override
    void start(JobRunner jobs, GgdaConfig config) {
      jobs.detectNoise(config, inject);
    }
  }
}
