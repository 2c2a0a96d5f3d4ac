package dev.ggda.api;

import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.ComputeConfig;
import dev.ggda.config.ComputeDevice;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.ConfigValidator;
import dev.ggda.config.DataConfig;
import dev.ggda.config.DataSource;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GroupConfig;
import dev.ggda.config.GroupMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ModelConfig;
import dev.ggda.config.ModelKind;
import dev.ggda.config.OutputConfig;
import dev.ggda.config.ProjectionConfig;
import dev.ggda.config.ProjectionKind;
import dev.ggda.config.TargetMode;
import dev.ggda.config.TrainConfig;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.model.TrainedModel;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Group data attribution from Spark code: a Dataset of training rows and a Dataset of targets in,
 * score tables out, with no files written.
 *
 * <pre>{@code
 * try (AttributionResult r = GroupAttribution.builder(spark)
 *     .method(AttributionMethod.TRAK)
 *     .projection(ProjectionKind.RADEMACHER, 2048)
 *     .grouping(GroupMethod.KMEANS_GRAD, 64)
 *     .train(trainDf)
 *     .targets(testDf)
 *     .run()) {
 *   r.groupValues().orderBy("rank").show();
 * }
 * }</pre>
 *
 * <p>Every setting starts at the default of the YAML configuration (the same defaults as `ggda
 * run`; {@link #builder(SparkSession, GgdaConfig)} starts from a resolved config instead) and is
 * checked by the same validator when {@link Builder#run()} is called: a bad value is an {@link
 * InputException} naming the config key and the fix. The training and target Datasets need a label
 * column and features (a vector or numeric array column, by default {@code label} and {@code
 * features}); an id column ({@code id}) is optional, and without one ids are derived from content.
 * The model is trained from the settings unless one is given ({@link Builder#model(TrainedModel)},
 * {@link Builder#modelPath(String)}).
 */
public final class GroupAttribution {
  private GroupAttribution() {}

  /** A builder with every setting at its default. */
  public static Builder builder(SparkSession spark) {
    return new Builder(spark, ConfigLoader.defaults());
  }

  /** A builder starting from a resolved config; its data paths and output section are not used. */
  public static Builder builder(SparkSession spark, GgdaConfig config) {
    return new Builder(spark, config);
  }

  /** Collects the settings and inputs of one attribution; {@link #run()} computes it. */
  public static final class Builder {
    private final SparkSession spark;
    private GgdaConfig config;
    private Dataset<Row> train;
    private Dataset<Row> targets;
    private TrainedModel model;

    private Builder(SparkSession spark, GgdaConfig config) {
      this.spark = Objects.requireNonNull(spark, "spark");
      this.config = Objects.requireNonNull(config, "config");
    }

    /** The training rows (attribution is to groups of them). */
    public Builder train(Dataset<Row> rows) {
      this.train = rows;
      return this;
    }

    /**
     * The rows whose predictions are attributed (e.g. a test set), with the same feature columns.
     */
    public Builder targets(Dataset<Row> rows) {
      this.targets = rows;
      return this;
    }

    /** Column names of both Datasets (defaults: {@code id}, {@code label}, {@code features}). */
    public Builder columns(String idColumn, String labelColumn, String featuresColumn) {
      DataSource s = source();
      return data(
          new DataSource(
              null,
              s.format(),
              idColumn,
              labelColumn,
              featuresColumn,
              s.groupCol(),
              null,
              null,
              s.synthetic()),
          config.data().classes());
    }

    /** Number of classes; by default the largest training label + 1. */
    public Builder classes(int classes) {
      return data(source(), classes);
    }

    /** attribute.method: trak, tracin, if, graddot or gradcos. */
    public Builder method(AttributionMethod method) {
      AttributeConfig a = config.attribute();
      return attribute(
          new AttributeConfig(
              method,
              a.projection(),
              a.kernel(),
              a.hessian(),
              a.damping(),
              a.target(),
              a.relativeDamping()));
    }

    /** attribute.projection: kind and dimension k (seed unchanged). */
    public Builder projection(ProjectionKind kind, int dim) {
      AttributeConfig a = config.attribute();
      return attribute(
          new AttributeConfig(
              a.method(),
              new ProjectionConfig(kind, dim, a.projection().seed()),
              a.kernel(),
              a.hessian(),
              a.damping(),
              a.target(),
              a.relativeDamping()));
    }

    /** attribute.kernel (TRAK). */
    public Builder kernel(KernelMode kernel) {
      AttributeConfig a = config.attribute();
      return attribute(
          new AttributeConfig(
              a.method(),
              a.projection(),
              kernel,
              a.hessian(),
              a.damping(),
              a.target(),
              a.relativeDamping()));
    }

    /** attribute.hessian (influence functions). */
    public Builder hessian(HessianMode hessian) {
      AttributeConfig a = config.attribute();
      return attribute(
          new AttributeConfig(
              a.method(),
              a.projection(),
              a.kernel(),
              hessian,
              a.damping(),
              a.target(),
              a.relativeDamping()));
    }

    /** attribute.damping and attribute.relative_damping (times the mean eigenvalue). */
    public Builder damping(double absolute, double relative) {
      return attribute(config.attribute().withDamping(absolute, relative));
    }

    /**
     * attribute.target: per-example (each target row) or aggregate (the summed loss of all
     * targets).
     */
    public Builder target(TargetMode target) {
      AttributeConfig a = config.attribute();
      return attribute(
          new AttributeConfig(
              a.method(),
              a.projection(),
              a.kernel(),
              a.hessian(),
              a.damping(),
              target,
              a.relativeDamping()));
    }

    /** group.method and group.size (1 is per-example attribution). */
    public Builder grouping(GroupMethod method, int size) {
      config = config.withGroup(config.group().with(method, size, null));
      return this;
    }

    /**
     * The user's own groups: the training Dataset's column (data source, shard, vendor) is the
     * group.
     */
    public Builder groupColumn(String column) {
      DataSource s = source();
      data(
          new DataSource(
              null,
              s.format(),
              s.idCol(),
              s.labelCol(),
              s.featuresCol(),
              column,
              null,
              null,
              s.synthetic()),
          config.data().classes());
      GroupConfig g = config.group();
      config = config.withGroup(g.with(GroupMethod.COLUMN, g.size(), g.count()));
      return this;
    }

    /** model.kind and the hidden layer widths of an MLP (none for logistic). */
    public Builder model(ModelKind kind, int... hidden) {
      ModelConfig m = config.model();
      List<Integer> widths = java.util.Arrays.stream(hidden).boxed().toList();
      config = config.withModel(new ModelConfig(kind, widths, m.activation(), m.l2(), m.load()));
      return this;
    }

    /** model.activation of the hidden layers. */
    public Builder activation(ActivationKind activation) {
      ModelConfig m = config.model();
      config =
          config.withModel(new ModelConfig(m.kind(), m.hidden(), activation, m.l2(), m.load()));
      return this;
    }

    /** model.l2: the L2 term of the training objective. */
    public Builder l2(double l2) {
      ModelConfig m = config.model();
      config =
          config.withModel(new ModelConfig(m.kind(), m.hidden(), m.activation(), l2, m.load()));
      return this;
    }

    /** A model already trained (for example the result of an earlier run): no training. */
    public Builder model(TrainedModel trained) {
      this.model = trained;
      return this;
    }

    /** model.load: a saved ggda model folder or an MLlib model folder (any Hadoop path). */
    public Builder modelPath(String path) {
      ModelConfig m = config.model();
      config =
          config.withModel(new ModelConfig(m.kind(), m.hidden(), m.activation(), m.l2(), path));
      return this;
    }

    /** The train section: epochs, batch size, learning rate, checkpoints, members, seed. */
    public Builder training(TrainConfig training) {
      config = config.withTrain(training);
      return this;
    }

    /**
     * compute.device: where executors featurize (auto: a GPU Spark assigned when one opens, else
     * the CPU).
     */
    public Builder computeDevice(ComputeDevice device) {
      config = config.withCompute(new ComputeConfig(device));
      return this;
    }

    /**
     * output.top_k: keep only the k highest-scoring groups per target in scores(); null keeps all.
     */
    public Builder topK(Integer k) {
      OutputConfig o = config.output();
      config = config.withOutput(new OutputConfig(o.path(), o.format(), k, o.mode()));
      return this;
    }

    /** The settings as they stand (the same record `ggda` resolves from YAML). */
    public GgdaConfig config() {
      return config;
    }

    /**
     * Validates the settings and inputs, trains (or takes) the model, groups the training rows and
     * scores every group against every target. The result holds its tables cached: close it.
     *
     * @throws InputException for a bad setting or input, naming it and the fix
     */
    public AttributionResult run() {
      ConfigValidator.validateSettings(config);
      if (train == null) {
        throw new InputException("train: no training rows; pass them with train(Dataset)");
      }
      if (targets == null) {
        throw new InputException(
            "targets: no targets; pass the rows to attribute with targets(Dataset)");
      }
      Console console = Console.progress();
      DataSource columns = source();
      LoadedData tr =
          DataLoader.fromDataset(
              train,
              columns,
              config.data().classes(),
              "train",
              null,
              line -> console.info("load: %s", line));
      DataSource targetColumns =
          new DataSource(
              null,
              columns.format(),
              columns.idCol(),
              columns.labelCol(),
              columns.featuresCol(),
              null,
              null,
              null,
              columns.synthetic());
      LoadedData tg =
          DataLoader.fromDataset(
              targets,
              targetColumns,
              tr.classes(),
              "targets",
              tr.dim(),
              line -> console.info("load: %s", line));
      Pipeline p = new Pipeline(spark, config, "api", console);
      try {
        p.use(tr, tg);
        if (model != null) {
          p.useModel(model);
        }
        p.obtainModel();
        p.group(null);
        return new AttributionResult(p, p.score(null));
      } catch (RuntimeException e) {
        p.close();
        throw e;
      }
    }

    private DataSource source() {
      return config.data().train();
    }

    private Builder data(DataSource train, Integer classes) {
      config = config.withData(new DataConfig(train, null, classes));
      return this;
    }

    private Builder attribute(AttributeConfig a) {
      config = config.withAttribute(a);
      return this;
    }
  }
}
