package dev.ggda.cli;

import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The config options every subcommand shares (a picocli mixin). */
final class ConfigOptions {
  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description =
          "YAML config file; every key is optional but data.train.path. See defaults.yaml for all keys.")
  String configFile;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override one config key after the file, e.g. --set train.epochs=20, "
              + "--set model.hidden=[256,128], --set output.top_k=null. Repeatable; applied in order.")
  List<String> sets = new ArrayList<>();

  GgdaConfig load() {
    return ConfigLoader.load(configFile, sets);
  }
}
