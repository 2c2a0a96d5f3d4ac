package dev.ggda.config;

import dev.ggda.InputException;
import java.util.ArrayList;
import java.util.List;

/**
 * Range and consistency checks on a bound config (types are already checked by the loader). All
 * problems are reported at once, in one line, so that a user fixes a config in one round trip.
 */
public final class ConfigValidator {
  /** Guards against a config that would write thousands of checkpoints per epoch. */
  static final int MAX_CHECKPOINTS_PER_EPOCH = 1000;

  private final List<String> problems = new ArrayList<>();

  /**
   * Whether the data come from data.*.path (the CLI) or from Datasets the caller holds (the API).
   */
  private final boolean dataFromPaths;

  private ConfigValidator(boolean dataFromPaths) {
    this.dataFromPaths = dataFromPaths;
  }

  /**
   * @throws InputException naming every offending key, e.g. {@code config: train.epochs must be an
   *     integer >= 1, got 0}
   */
  public static void validate(GgdaConfig config) {
    new ConfigValidator(true).run(config);
  }

  /** The same checks for data given as Datasets: no data path is required. */
  public static void validateSettings(GgdaConfig config) {
    new ConfigValidator(false).run(config);
  }

  private void run(GgdaConfig config) {
    check(config);
    if (!problems.isEmpty()) {
      throw new InputException("config: " + String.join("; ", problems));
    }
  }

  private void check(GgdaConfig c) {
    if (present("data", c.data())) {
      data(c.data());
    }
    if (present("model", c.model())) {
      model(c.model());
    }
    if (present("train", c.train())) {
      train(c.train());
    }
    if (present("group", c.group())) {
      group(c.group(), c.data());
    }
    if (present("attribute", c.attribute())) {
      attribute(c.attribute());
    }
    if (present("output", c.output())) {
      output(c.output());
    }
    if (present("evaluate", c.evaluate())) {
      evaluate(c.evaluate());
    }
    if (present("prune", c.prune())) {
      prune(c.prune());
    }
    if (present("noise", c.noise())) {
      noise(c.noise());
    }
    if (present("compute", c.compute())) {
      oneOf("compute.device", c.compute().device(), ComputeDevice.class);
    }
    if (c.incremental() != null && c.incremental().store() != null) {
      incremental(c);
    }
  }

  private void incremental(GgdaConfig c) {
    if (c.incremental().store().isBlank()) {
      problems.add(
          "incremental.store must not be empty; use null to featurize every row on every run");
    }
    GroupConfig g = c.group();
    boolean perExample = g != null && g.size() == 1 && g.count() == null;
    boolean staysPut =
        g == null || perExample || g.method() == GroupMethod.COLUMN || g.method().kmeans();
    if (!staysPut) {
      problems.add(
          "incremental.store keeps groups that stay put as the table grows: set group.method: column"
              + " or kmeans-* (or group.size: 1), got group.method "
              + ConfigLoader.yamlName(g.method()));
    }
    DataSource t = c.data() == null ? null : c.data().train();
    if (t != null && (t.format() == DataFormat.SYNTHETIC || t.format() == DataFormat.IDX)) {
      problems.add(
          "incremental.store reads the training table file by file: data.train.format must be"
              + " parquet, csv or libsvm, got "
              + ConfigLoader.yamlName(t.format()));
    }
    if (t != null && t.limit() != null) {
      problems.add(
          "incremental.store needs every row of the training table: set data.train.limit: null");
    }
  }

  private void prune(PruneConfig p) {
    openUnit("prune.fraction", p.fraction(), "e.g. 0.2 to drop a fifth of the examples");
    if (p.threshold() != null && !Double.isFinite(p.threshold())) {
      problems.add("prune.threshold must be a finite number or null, got " + p.threshold());
    }
    oneOf("prune.rank_by", p.rankBy(), PruneRankBy.class);
    List<Double> fractions = p.validateFractions() == null ? List.of() : p.validateFractions();
    if (fractions.isEmpty()) {
      problems.add(
          "prune.validate_fractions must list at least one fraction in (0, 1), e.g. [0.1, 0.2, 0.3, 0.4, 0.5]");
    }
    for (int i = 0; i < fractions.size(); i++) {
      Double f = fractions.get(i);
      if (f == null || !(f > 0 && f < 1)) {
        problems.add("prune.validate_fractions[" + i + "] must be a number in (0, 1), got " + f);
      }
    }
    atLeast("prune.validate_seeds", p.validateSeeds(), 1);
    eachOneOf("prune.validate_baselines", p.validateBaselines(), ExampleSignal.class);
    openUnit(
        "prune.test_fraction",
        p.testFraction(),
        "e.g. 0.5 to score retrained models on half of the targets");
  }

  private void noise(NoiseConfig n) {
    oneOf("noise.signal", n.signal(), NoiseSignal.class);
    oneOf("noise.example_signal", n.exampleSignal(), ExampleSignal.class);
    openUnit(
        "noise.refit_fraction",
        n.refitFraction(),
        "e.g. 0.2, about the share of labels you expect wrong");
    openUnit("noise.inject_fraction", n.injectFraction(), "e.g. 0.1 to flip a tenth of the labels");
    oneOf("noise.inject_kind", n.injectKind(), FlipKind.class);
  }

  /** A list of enum values (null: none) with no null entry (a value the YAML could not name). */
  private <E extends Enum<E>> void eachOneOf(String key, List<E> values, Class<E> type) {
    List<E> list = values == null ? List.of() : values;
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i) == null) {
        problems.add(
            key
                + "["
                + i
                + "] must be one of "
                + String.join(", ", ConfigMapper.names(type))
                + ", got null");
      }
    }
  }

  private void openUnit(String key, double value, String hint) {
    if (!(value > 0 && value < 1)) {
      problems.add(key + " must be a number in (0, 1), got " + value + "; " + hint);
    }
  }

  private void evaluate(EvaluateConfig e) {
    eachOneOf("evaluate.metrics", e.metrics(), EvalMetric.class);
    atLeast("evaluate.subsets", e.subsets(), 2);
    if (!(e.fraction() > 0 && e.fraction() < 1)) {
      problems.add("evaluate.fraction must be a number in (0, 1), got " + e.fraction());
    }
    atLeast("evaluate.seeds", e.seeds(), 1);
    oneOf("evaluate.seed_mode", e.seedMode(), SeedMode.class);
    if (e.groupSubsets() != null) {
      atLeast("evaluate.group_subsets", e.groupSubsets(), 2);
    }
    List<Double> fractions = e.removalFractions() == null ? List.of() : e.removalFractions();
    for (int i = 0; i < fractions.size(); i++) {
      Double f = fractions.get(i);
      if (f == null || !(f > 0 && f < 1)) {
        problems.add("evaluate.removal_fractions[" + i + "] must be a number in (0, 1), got " + f);
      }
    }
    atLeast("evaluate.removal_seeds", e.removalSeeds(), 1);
    atLeast("evaluate.loo_groups", e.looGroups(), 3);
    if (e.retrainStore() != null && e.retrainStore().isBlank()) {
      problems.add(
          "evaluate.retrain_store must not be empty; use null to keep retrainings in the run's staging folder only");
    }
  }

  private void data(DataConfig d) {
    if (present("data.train", d.train())) {
      source("data.train", d.train(), true);
    }
    if (d.targets() != null) {
      source("data.targets", d.targets(), false);
    }
    if (d.classes() != null) {
      atLeast("data.classes", d.classes(), 2);
      DataSource train = d.train();
      if (train != null
          && train.format() == DataFormat.SYNTHETIC
          && train.synthetic() != null
          && d.classes() >= 2
          && d.classes() < train.synthetic().classes()) {
        problems.add(
            "data.classes ("
                + d.classes()
                + ") must be at least data.train.synthetic.classes ("
                + train.synthetic().classes()
                + "); raise it or leave it null");
      }
    }
  }

  private void source(String key, DataSource s, boolean isTrain) {
    oneOf(key + ".format", s.format(), DataFormat.class);
    boolean synthetic = s.format() == DataFormat.SYNTHETIC;
    if (s.path() == null && isTrain && !synthetic && dataFromPaths) {
      problems.add(
          key
              + ".path is required: set it to the training data (any Hadoop path), or set "
              + key
              + ".format: synthetic");
    } else if (s.path() != null && s.path().isBlank()) {
      problems.add(key + ".path must not be empty");
    }
    notBlank(key + ".label_col", s.labelCol());
    notBlank(key + ".features_col", s.featuresCol());
    if (s.idCol() != null && s.idCol().isBlank()) {
      problems.add(
          key
              + ".id_col must not be empty; leave it as 'id' to derive ids when the column is absent");
    }
    if (s.groupCol() != null && s.groupCol().isBlank()) {
      problems.add(key + ".group_col must not be empty; use null for no group column");
    }
    if (s.labelsPath() != null && s.labelsPath().isBlank()) {
      problems.add(
          key + ".labels_path must not be empty; use null to derive it from the images file name");
    }
    if (s.limit() != null) {
      atLeast(key + ".limit", s.limit(), 1);
    }
    SyntheticSpec g = s.synthetic();
    if (g == null) {
      if (synthetic) {
        problems.add(key + ".synthetic is required when " + key + ".format is synthetic");
      }
      return;
    }
    String k = key + ".synthetic";
    atLeast(k + ".n", g.n(), 1);
    atLeast(k + ".dim", g.dim(), 1);
    atLeast(k + ".classes", g.classes(), 2);
    if (!(g.labelNoise() >= 0 && g.labelNoise() < 1)) {
      problems.add(k + ".label_noise must be a number in [0, 1), got " + g.labelNoise());
    }
    positive(k + ".separation", g.separation());
  }

  private void model(ModelConfig m) {
    oneOf("model.kind", m.kind(), ModelKind.class);
    oneOf("model.activation", m.activation(), ActivationKind.class);
    List<Integer> hidden = m.hidden() == null ? List.of() : m.hidden();
    if (m.kind() == ModelKind.MLP && hidden.isEmpty()) {
      problems.add(
          "model.hidden must list at least one layer width when model.kind is mlp, e.g. [128]; or set model.kind: logistic");
    }
    for (int i = 0; i < hidden.size(); i++) {
      Integer width = hidden.get(i);
      // Nulls are a type error whatever the kind; widths matter only for an mlp.
      if (width == null || (m.kind() == ModelKind.MLP && width < 1)) {
        problems.add("model.hidden[" + i + "] must be an integer >= 1, got " + width);
      }
    }
    nonNegative("model.l2", m.l2());
    if (m.load() != null && m.load().isBlank()) {
      problems.add("model.load must not be empty; use null to train a model");
    }
  }

  private void train(TrainConfig t) {
    atLeast("train.epochs", t.epochs(), 1);
    atLeast("train.batch_size", t.batchSize(), 1);
    positive("train.learning_rate", t.learningRate());
    oneOf("train.schedule", t.schedule(), LrSchedule.class);
    atLeast("train.checkpoints", t.checkpoints(), 1);
    long maxCheckpoints = (long) t.epochs() * MAX_CHECKPOINTS_PER_EPOCH;
    if (t.epochs() >= 1 && t.checkpoints() > maxCheckpoints) {
      problems.add(
          "train.checkpoints must be at most train.epochs * "
              + MAX_CHECKPOINTS_PER_EPOCH
              + " = "
              + maxCheckpoints
              + ", got "
              + t.checkpoints());
    }
    atLeast("train.members", t.members(), 1);
    if (!(t.memberFraction() > 0 && t.memberFraction() <= 1)) {
      problems.add("train.member_fraction must be a number in (0, 1], got " + t.memberFraction());
    }
    oneOf("train.mode", t.mode(), TrainMode.class);
  }

  private void group(GroupConfig g, DataConfig data) {
    oneOf("group.method", g.method(), GroupMethod.class);
    atLeast("group.size", g.size(), 1);
    if (g.count() != null) {
      atLeast("group.count", g.count(), 1);
    }
    atLeast("group.refit_every", g.refitEvery(), 0);
    if (g.method() == GroupMethod.COLUMN
        && (data == null || data.train() == null || data.train().groupCol() == null)) {
      problems.add(
          "group.method column needs data.train.group_col (the column naming each example's group); set it, or choose another group.method");
    }
  }

  private void attribute(AttributeConfig a) {
    oneOf("attribute.method", a.method(), AttributionMethod.class);
    if (present("attribute.projection", a.projection())) {
      oneOf("attribute.projection.kind", a.projection().kind(), ProjectionKind.class);
      atLeast("attribute.projection.dim", a.projection().dim(), 1);
    }
    oneOf("attribute.kernel", a.kernel(), KernelMode.class);
    oneOf("attribute.hessian", a.hessian(), HessianMode.class);
    nonNegative("attribute.damping", a.damping());
    nonNegative("attribute.relative_damping", a.relativeDamping());
    oneOf("attribute.target", a.target(), TargetMode.class);
  }

  private void output(OutputConfig o) {
    if (o.path() == null || o.path().isBlank()) {
      problems.add("output.path must not be empty: set it to the output folder (any Hadoop path)");
    }
    oneOf("output.format", o.format(), OutputFormat.class);
    if (o.topK() != null) {
      atLeast("output.top_k", o.topK(), 1);
    }
    oneOf("output.mode", o.mode(), OutputMode.class);
  }

  // ---- helpers; each records a problem and carries on

  private boolean present(String key, Object section) {
    if (section == null) {
      problems.add(key + " section is missing");
    }
    return section != null;
  }

  private void atLeast(String key, long value, long min) {
    if (value < min) {
      problems.add(key + " must be an integer >= " + min + ", got " + value);
    }
  }

  private void positive(String key, double value) {
    if (!(value > 0 && Double.isFinite(value))) {
      problems.add(key + " must be a finite number > 0, got " + value);
    }
  }

  private void nonNegative(String key, double value) {
    if (!(value >= 0 && Double.isFinite(value))) {
      problems.add(key + " must be a finite number >= 0, got " + value);
    }
  }

  private void notBlank(String key, String value) {
    if (value == null || value.isBlank()) {
      problems.add(key + " must name a column, got " + (value == null ? "null" : "''"));
    }
  }

  private void oneOf(String key, Enum<?> value, Class<? extends Enum<?>> type) {
    if (value == null) {
      problems.add(
          key + " must be one of " + String.join(", ", ConfigMapper.names(type)) + ", got null");
    }
  }
}
