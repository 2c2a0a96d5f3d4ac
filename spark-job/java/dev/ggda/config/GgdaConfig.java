package dev.ggda.config;

/**
 * The whole run configuration, resolved (defaults merged, --set overrides applied) and validated.
 * Keys and meanings follow DESIGN.md section 8; YAML keys are the snake_case of the component
 * names.
 */
public record GgdaConfig(
    DataConfig data,
    ModelConfig model,
    TrainConfig train,
    GroupConfig group,
    AttributeConfig attribute,
    OutputConfig output,
    EvaluateConfig evaluate,
    PruneConfig prune,
    NoiseConfig noise,
    ComputeConfig compute,
    IncrementalConfig incremental) {

  public GgdaConfig withData(DataConfig d) {
    return new GgdaConfig(
        d, model, train, group, attribute, output, evaluate, prune, noise, compute, incremental);
  }

  public GgdaConfig withTrain(TrainConfig t) {
    return new GgdaConfig(
        data, model, t, group, attribute, output, evaluate, prune, noise, compute, incremental);
  }

  public GgdaConfig withCompute(ComputeConfig c) {
    return new GgdaConfig(
        data, model, train, group, attribute, output, evaluate, prune, noise, c, incremental);
  }

  public GgdaConfig withGroup(GroupConfig g) {
    return new GgdaConfig(
        data, model, train, g, attribute, output, evaluate, prune, noise, compute, incremental);
  }

  public GgdaConfig withAttribute(AttributeConfig a) {
    return new GgdaConfig(
        data, model, train, group, a, output, evaluate, prune, noise, compute, incremental);
  }

  public GgdaConfig withModel(ModelConfig m) {
    return new GgdaConfig(
        data, m, train, group, attribute, output, evaluate, prune, noise, compute, incremental);
  }

  public GgdaConfig withIncremental(IncrementalConfig i) {
    return new GgdaConfig(
        data, model, train, group, attribute, output, evaluate, prune, noise, compute, i);
  }

  public GgdaConfig withOutput(OutputConfig o) {
    return new GgdaConfig(
        data, model, train, group, attribute, o, evaluate, prune, noise, compute, incremental);
  }
}
