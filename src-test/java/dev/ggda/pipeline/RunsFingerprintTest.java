package dev.ggda.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ggda.config.ConfigLoader;
import dev.ggda.config.GgdaConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The staging folder's name: resume finds a crashed run's folder whatever device and mode the rerun
 * uses.
 */
class RunsFingerprintTest {
  private static GgdaConfig config(String... sets) {
    List<String> all = new java.util.ArrayList<>(List.of("data.train.format=synthetic"));
    all.addAll(List.of(sets));
    return ConfigLoader.load(null, all);
  }

  @Test
  void neitherTheComputeDeviceNorTheOutputModeChangeTheFingerprintButTheWorkDoes() {
    String base = Runs.fingerprint(config(), "run");
    assertEquals(base, Runs.fingerprint(config("compute.device=cuda"), "run"));
    assertEquals(base, Runs.fingerprint(config("compute.device=cpu", "output.mode=resume"), "run"));
    assertNotEquals(base, Runs.fingerprint(config("attribute.projection.dim=1024"), "run"));
    assertNotEquals(base, Runs.fingerprint(config(), "attribute"));
  }
}
