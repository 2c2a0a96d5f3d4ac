package dev.ggda.evaluation;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One retraining: the training recipe of the run (train.*), on the given rows, with the given seed.
 *
 * @param id names the retraining; results are stored and reused under it
 * @param rows positions into the training set ordered by example_id, ascending
 * @param seed replaces train.seed (initialisation and shuffles)
 */
public record RetrainSpec(String id, int[] rows, long seed) implements Serializable {
  public RetrainSpec {
    if (!id.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "retraining id must be a plain file name, got '" + id + "'");
    }
  }

  /**
   * A fingerprint of what is trained (rows and seed, not the id): a stored result is reused only
   * when it was trained on exactly this.
   */
  public long fingerprint() {
    return dev.ggda.math.Seeds.mix(Arrays.hashCode(rows) * 31L + rows.length, seed);
  }
}
