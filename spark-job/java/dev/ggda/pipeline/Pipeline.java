package dev.ggda.pipeline;

import dev.ggda.InputException;
import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.data.DataLoader;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.evaluation.EvaluationStage;
import dev.ggda.featurize.ComputeReport;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunInfo;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.model.ModelStore;
import dev.ggda.model.TrainedModel;
import dev.ggda.report.ReportWriter;
import dev.ggda.spark.ModelMetrics;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The stages of one run, in order: load and validate the data (or take Datasets the caller holds),
 * obtain the model (train, load or take one), group, attribute, evaluate; each timed into run.json.
 * Every stage takes an optional {@link RunOutput}: with one (the CLI, through {@link Runs}) it
 * writes its tables to the run's staging folder and a resumed run reuses what an earlier attempt
 * finished; without one (the programmatic API) nothing is written and the tables are returned.
 */
public final class Pipeline implements AutoCloseable {
  private final SparkSession spark;
  private final GgdaConfig config;
  private final RunInfo info;
  private final Console console;

  private LoadedData train;
  private LoadedData targets;
  private TrainedModel model;
  private TrainedModel given;
  private Groups groups;
  private AttributionStage.Prepared prepared;
  private ScoreStage.Scored scores;
  private boolean modelWritten;

  /** What a resumed run reused (run.json "resume"): stages read back and groups featurized anew. */
  private final Map<String, Object> resume = new LinkedHashMap<>();

  public Pipeline(SparkSession spark, GgdaConfig config, String command, Console console) {
    this.spark = spark;
    this.config = config;
    this.info = new RunInfo(command, ConfigLoader.toJson(config));
    this.console = console;
  }

  public GgdaConfig config() {
    return config;
  }

  public SparkSession spark() {
    return spark;
  }

  public RunInfo info() {
    return info;
  }

  public TrainedModel model() {
    return model;
  }

  public LoadedData trainData() {
    return train;
  }

  public LoadedData targetData() {
    return targets;
  }

  public Groups groups() {
    return groups;
  }

  public Console console() {
    return console;
  }

  /**
   * Replaces the training set after {@link #load()} (e.g. with injected label noise), before the
   * model is obtained. The replacement is persisted like a loaded one.
   */
  public void replaceTrain(LoadedData replacement) {
    train.examples().unpersist(false);
    train = cached(replacement);
  }

  /**
   * Replaces the targets after {@link #load()} (e.g. a validation split of them); null is not
   * allowed.
   */
  public void replaceTargets(LoadedData replacement) {
    if (targets != null) {
      targets.examples().unpersist(false);
    }
    targets = cached(replacement);
    info.count("target_rows", targets.count());
  }

  /** Loads and validates train and target data (no heavy work before this passes). */
  public void load() {
    info.stage(
        "load",
        () -> {
          train =
              cached(
                  DataLoader.load(
                      spark,
                      config.data().train(),
                      config.data().classes(),
                      "train",
                      null,
                      line -> console.info("load: %s", line)));
          info.count("train_rows", train.count())
              .count("features", train.dim())
              .count("classes", train.classes());
          console.info(
              "load: train %,d rows x %d features, %d classes",
              train.count(), train.dim(), train.classes());
          if (config.data().targets() != null) {
            targets =
                cached(
                    DataLoader.load(
                        spark,
                        config.data().targets(),
                        train.classes(),
                        "targets",
                        null,
                        line -> console.info("load: %s", line)));
            if (targets.dim() != train.dim()) {
              throw new InputException(
                  "data.targets: examples have "
                      + targets.dim()
                      + " features but data.train has "
                      + train.dim()
                      + "; point data.targets.path at data of the same shape as the training set");
            }
            info.count("target_rows", targets.count());
            console.info("load: targets %,d rows", targets.count());
          }
        });
  }

  /**
   * Uses data the caller already loaded and validated (the programmatic API), instead of {@link
   * #load()}; {@code targets} may be null.
   */
  public void use(LoadedData train, LoadedData targets) {
    this.train = cached(train);
    info.count("train_rows", train.count())
        .count("features", train.dim())
        .count("classes", train.classes());
    if (targets != null) {
      this.targets = cached(targets);
      info.count("target_rows", targets.count());
    }
  }

  /** Every later stage makes several passes over the examples: read and decode them once. */
  private static LoadedData cached(LoadedData d) {
    return d.withExamples(
        d.examples().persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK()));
  }

  /** Trains the model (or loads model.load) and records its accuracy on train and targets. */
  public void obtainModel() {
    obtainModel(null);
  }

  /**
   * One model trained with the run's recipe (one member, final checkpoint only) on other rows than
   * the run's, timed as {@code stage}: the apps' refit signal.
   */
  public TrainedModel trainOn(LoadedData rows, String stage) {
    GgdaConfig one = config.withTrain(config.train().oneMember());
    return info.stage(stage, () -> new TrainingStage(spark, one, console).train(rows));
  }

  /** A model the caller holds, used by {@link #obtainModel} instead of training or loading one. */
  public void useModel(TrainedModel model) {
    this.given = model;
  }

  /**
   * The same, saving the model into the run's staging folder at once (a resumed run reads it back
   * instead of training again).
   */
  public void obtainModel(RunOutput out) {
    if (out != null && out.stageDone("model")) {
      model =
          info.stage(
              "model_resume",
              () -> ModelStore.load(out.path("model"), spark.sparkContext().hadoopConfiguration()));
      reused("model");
      console.info(
          "model: resumed %s from the unfinished run's staging folder", model.architecture());
    } else if (given != null) {
      model =
          info.stage("model_given", () -> ModelLoading.checked(given, "the given model", train));
    } else if (config.model().load() != null) {
      model =
          info.stage("model_load", () -> ModelLoading.load(spark, config.model().load(), train));
      console.info("model: loaded %s from %s", model.architecture(), config.model().load());
    } else {
      model = info.stage("train", () -> new TrainingStage(spark, config, console).train(train));
    }
    if (out != null && !out.stageDone("model")) {
      info.stage(
          "write_model",
          () ->
              ModelStore.save(
                  model, out.path("model"), spark.sparkContext().hadoopConfiguration()));
      modelWritten = true;
      out.markStage("model");
    } else if (out != null) {
      modelWritten = true;
    }
    info.count("members", model.memberCount())
        .count("checkpoints_per_member", model.members().get(0).size());
    info.count("parameters", model.architecture().paramCount());
    info.stage(
        "evaluate_model",
        () -> {
          float[] p = model.finalCheckpoint(0).params();
          record("train", ModelMetrics.evaluate(train.examples(), model.architecture(), p));
          if (targets != null) {
            record("targets", ModelMetrics.evaluate(targets.examples(), model.architecture(), p));
          }
        });
  }

  private void record(String split, ModelMetrics m) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("rows", m.count);
    v.put("accuracy", m.accuracy());
    v.put("mean_loss", m.meanLoss());
    info.metric(split, v);
    console.info(
        "model: %s accuracy %.4f, mean loss %.4f (%,d rows)",
        split, m.accuracy(), m.meanLoss(), m.count);
  }

  /** Assigns every training example to a group; with an output, writes groups/ and group_stats/. */
  public Groups group(RunOutput out) {
    // Stored k-means centres are read again: the featurize key names the clustering they are.
    boolean storedCentres =
        config.incremental() != null
            && config.incremental().store() != null
            && config.group().method().kmeans();
    if (out != null && out.stageDone("group") && !storedCentres) {
      groups =
          info.stage(
              "group_resume",
              () -> {
                var assignment =
                    Tables.read(spark, out.path("groups"), config.output().format())
                        .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
                var stats = Tables.read(spark, out.path("group_stats"), config.output().format());
                return new Groups(assignment, stats, stats.count());
              });
      reused("group");
    } else {
      groups = info.stage("group", () -> GroupingStage.assign(spark, config, train, model));
      if (out != null) {
        info.stage(
            "write_groups",
            () -> {
              Tables.write(groups.assignment(), out.path("groups"), config.output().format());
              Tables.write(groups.stats(), out.path("group_stats"), config.output().format());
            });
        out.markStage("group");
      }
    }
    info.count("groups", groups.count());
    console.info(
        "group: %,d groups (%s, mean size %.1f)",
        groups.count(),
        GroupingStage.describe(config.group()),
        (double) train.count() / groups.count());
    return groups;
  }

  /**
   * Featurize, kernel/Hessian, target features and scores, without writing them: the tables stay
   * cached until {@link #close()}. With an output, featurized groups are checkpointed there (and
   * read back by a resumed run).
   */
  public ScoreStage.Scored score(RunOutput out) {
    if (targets == null) {
      throw new InputException(
          "data.targets: attribution needs targets; set data.targets.path (e.g. a test set)");
    }
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    AttributionStage stage =
        new AttributionStage(
            config.attribute(), config.compute().device(), line -> console.info("%s", line));
    String checkpoint = out == null ? null : out.path(RunOutput.STAGES + "/featurized-groups");
    String store = config.incremental() == null ? null : config.incremental().store();
    if (store != null) {
      stage.storingIn(store, storedGrouping());
    }
    prepared =
        info.stage(
            "featurize_and_solve",
            () ->
                stage.prepare(
                    train,
                    groups.assignment(),
                    stage.featurizeTargets(targets, model, train.count(), partitions),
                    model,
                    train.count(),
                    partitions,
                    checkpoint));
    if (out != null) {
      // The checkpoint's own _DONE decides reuse (a run can die between it and the stage marker).
      if (prepared.groupsFeaturized == 0) {
        reused("featurize");
      }
      if (!out.stageDone("featurize")) {
        out.markStage("featurize");
      }
      resume.put("groups_featurized", prepared.groupsFeaturized);
    }
    if (prepared.incremental != null) {
      if (groups.stored() != null) {
        prepared.incremental.put("clustering", groups.stored().report());
      }
      info.put("incremental", prepared.incremental);
    }
    info.count("projection_dim", prepared.k);
    info.put("attribution", prepared.effective);
    if (!Double.isNaN(prepared.dampingUsed)) {
      info.put("damping_used", prepared.dampingUsed);
    }
    if (!prepared.selfInfluenceNote.isEmpty()) {
      info.put("self_influence_note", prepared.selfInfluenceNote);
    }
    scores =
        ScoreStage.score(
            spark, prepared.blocks, prepared.operator, config.output().topK(), groups.keys());
    return scores;
  }

  /**
   * What a stored group key means, part of the feature store's key: the user's column, the stored
   * k-means centres, or the example id when every example is its own group.
   */
  private String storedGrouping() {
    train.requireSources();
    if (groups.stored() != null) {
      return "kmeans:" + groups.stored().id();
    }
    if (config.group().method() == dev.ggda.config.GroupMethod.COLUMN) {
      return "column:" + config.data().train().groupCol();
    }
    if (groups.count() < train.count()) {
      throw new InputException(
          "incremental.store: group.method "
              + ConfigLoader.yamlName(config.group().method())
              + " regroups as the table grows; set group.method: column, kmeans-* or group.size: 1");
    }
    return "example";
  }

  /** {@link #score} and write scores/, group_values/ and self_influence/ to the output. */
  public void attribute(RunOutput out) {
    ScoreStage.Scored tables = score(out);
    info.stage(
        "score_and_write",
        () -> {
          Tables.write(tables.scores, out.path("scores"), config.output().format());
          Tables.write(tables.groupValues, out.path("group_values"), config.output().format());
          if (tables.selfInfluence != null) {
            Tables.write(
                tables.selfInfluence, out.path("self_influence"), config.output().format());
          }
        });
    releaseScores();
    console.info(
        "attribute: %s scores of %,d groups for %,d target(s) written",
        config.attribute().method(), groups.count(), prepared.operator.targetCount());
  }

  private void releaseScores() {
    if (scores != null) {
      scores.release();
      scores = null;
    }
    if (prepared != null) {
      prepared.blocks.unpersist(false);
    }
  }

  /** Releases everything this run cached: data, groups, featurized groups and scores. */
  @Override
  public void close() {
    releaseScores();
    if (groups != null) {
      groups.assignment().unpersist(false);
    }
    if (train != null) {
      train.examples().unpersist(false);
    }
    if (targets != null) {
      targets.examples().unpersist(false);
    }
  }

  /**
   * Fidelity by retraining (`ggda evaluate`): reads back this run's groups/, scores/ and
   * group_values/ and writes evaluation/ (summary, lds, removal, loo) and run.json "evaluation".
   */
  public void evaluate(RunOutput out) {
    requireAllPairs(config);
    EvaluationStage stage = evaluationStage(out);
    var format = config.output().format();
    String tag =
        config.attribute().method().name().toLowerCase(java.util.Locale.ROOT)
            + "-"
            + GroupingStage.describe(config.group()).replaceAll("[^A-Za-z0-9.]+", "_");
    EvaluationStage.Fidelity r =
        info.stage(
            "evaluate",
            () ->
                stage.evaluate(
                    new EvaluationStage.Attribution(
                        tag,
                        Tables.read(spark, out.path("groups"), format),
                        Tables.read(spark, out.path("scores"), format),
                        Tables.read(spark, out.path("group_values"), format))));
    info.stage("write_evaluation", () -> EvaluationTables.write(spark, r, out, format));
    Map<String, Object> e = new LinkedHashMap<>(r.summary());
    e.put("protocol", stage.protocol());
    info.put("evaluation", e);
  }

  /**
   * The evaluation stage over this run's data, storing retrainings in the staging folder (reused on
   * resume).
   */
  public EvaluationStage evaluationStage(RunOutput out) {
    LocalData tg = LocalData.collect(targets);
    EvaluationStage.Inputs inputs;
    if (TrainingStage.trainsLocally(config, train)) {
      LocalData tr = info.stage("collect_for_retraining", () -> LocalData.collect(train));
      inputs = new EvaluationStage.Inputs(tr, tg, model.architecture(), config.train(), model.l2());
    } else {
      // Too large for one executor (or train.mode distributed): one distributed retraining after
      // another,
      // the training set and its example ids left on the executors.
      inputs =
          EvaluationStage.Inputs.distributed(
              train, tg, model.architecture(), config.train(), model.l2());
      console.info("evaluate: retraining with the distributed trainer, one retraining at a time");
    }
    return new EvaluationStage(
        spark,
        config.evaluate(),
        inputs,
        out.path(RunOutput.STAGES + "/retrain"),
        line -> console.info("%s", line));
  }

  public static void requireAllPairs(GgdaConfig config) {
    if (config.output().topK() != null) {
      throw new InputException(
          "output.top_k: evaluation needs every target x group score; set output.top_k: null for ggda evaluate");
    }
    if (config.data().targets() == null) {
      throw new InputException(
          "data.targets: evaluation needs targets; set data.targets.path (e.g. a test set)");
    }
  }

  private void reused(String stage) {
    @SuppressWarnings("unchecked")
    java.util.List<String> list =
        (java.util.List<String>)
            resume.computeIfAbsent("reused_stages", x -> new java.util.ArrayList<String>());
    list.add(stage);
  }

  /** Writes model/, run.json and report.html to staging and commits the output folder. */
  public String write(RunOutput out) {
    if (!modelWritten) {
      info.stage(
          "write_model",
          () ->
              ModelStore.save(
                  model, out.path("model"), spark.sparkContext().hadoopConfiguration()));
    }
    resume.put("resumed", out.resumed());
    resume.putIfAbsent("reused_stages", new java.util.ArrayList<String>());
    info.put("resume", resume);
    info.put("compute", ComputeReport.describe(spark, config.compute().device()));
    out.writeText("run.json", info.toJson());
    ReportWriter.writeOrWarn(spark, out, train);
    out.commit();
    return out.finalPath();
  }
}
