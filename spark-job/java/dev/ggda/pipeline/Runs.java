package dev.ggda.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import dev.ggda.io.RunOutput;
import dev.ggda.spark.Sessions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.spark.sql.SparkSession;

/**
 * The run skeleton every command that writes an output folder shares: open the output (a staging
 * folder named by the config, reused by output.mode resume), load and validate the inputs, run the
 * command's stages, write run.json and the report, and commit by rename. On any failure the staging
 * folder is dropped (kept with mode resume) and a previous output at the path is left as it was.
 */
public final class Runs {
  /** What one command does between loading its inputs and committing its output. */
  @FunctionalInterface
  public interface Body {
    void run(Pipeline p, RunOutput out);
  }

  private Runs() {}

  /**
   * @return the committed output path
   */
  public static String execute(GgdaConfig config, String command, Body body) {
    Console console = Console.progress();
    SparkSession spark = Sessions.getOrCreate("ggda " + command);
    RunOutput out =
        RunOutput.open(
            config.output().path(),
            config.output().mode(),
            spark.sparkContext().hadoopConfiguration(),
            fingerprint(config, command));
    try (Pipeline p = new Pipeline(spark, config, command, console)) {
      if (out.resumed()) {
        console.info(
            "%s: resuming the unfinished run of this config in %s", command, out.stagingPath());
      }
      p.load();
      body.run(p, out);
      String where = p.write(out);
      console.info("%s: wrote %s", command, where);
      return where;
    } finally {
      out.abort();
    }
  }

  /**
   * Names the staging folder: a hash of the command and the resolved config without output.mode and
   * compute (where featurize runs does not change the results beyond float32 rounding), so a rerun
   * of the same job with mode resume finds the folder its crashed predecessor left, on either
   * device.
   */
  static String fingerprint(GgdaConfig config, String command) {
    try {
      ObjectNode tree = (ObjectNode) new ObjectMapper().readTree(ConfigLoader.toJson(config));
      if (tree.get("output") instanceof ObjectNode o) {
        o.remove("mode");
      }
      tree.remove("compute");
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest((command + "\n" + tree).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot fingerprint the config", e);
    }
  }
}
