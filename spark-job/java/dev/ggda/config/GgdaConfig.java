package dev.ggda.config;

/**
 * The whole run configuration, resolved (defaults merged, --set overrides applied) and validated.
 * Keys and meanings follow DESIGN.md section 8; YAML keys are the snake_case of the component names.
 */
public record GgdaConfig(
    DataConfig data,
    ModelConfig model,
    TrainConfig train,
    GroupConfig group,
    AttributeConfig attribute,
    OutputConfig output,
    PruneConfig prune,
    NoiseConfig noise) {}
