package dev.ggda.apps;

import dev.ggda.config.FlipKind;
import dev.ggda.math.Seeds;

/**
 * The seeded label noise of `--inject-noise`: exactly round(fraction * n) (at least one) examples
 * are flipped, those with the smallest {@link #key} (a hash of the seed and the example id, so the
 * choice does not depend on partitioning), each to a class drawn uniformly from the other classes
 * or, for {@link FlipKind#PAIR}, to the next class. Spark-free.
 */
public final class LabelFlips {
  private static final long LABEL_SALT = 0x6C61626C65L;

  private LabelFlips() {}

  /** How many of n examples a fraction flips. */
  public static long count(long n, double fraction) {
    return Math.min(n, Math.max(1, Math.round(fraction * n)));
  }

  /** The selection key of an example: the flipped ones are the smallest keys (ties by id). */
  public static long key(long seed, long exampleId) {
    return Seeds.mix(seed, exampleId) >>> 1;
  }

  /** The flipped label of one kind; never the label itself. */
  public static int flip(FlipKind kind, long seed, long exampleId, int label, int classes) {
    if (classes < 2) {
      throw new IllegalArgumentException("flipping a label needs at least 2 classes");
    }
    return kind == FlipKind.PAIR ? (label + 1) % classes : flip(seed, exampleId, label, classes);
  }

  /** The uniform flip: label + 1 + floor(u * (classes - 1)) mod classes, never the label itself. */
  public static int flip(long seed, long exampleId, int label, int classes) {
    if (classes < 2) {
      throw new IllegalArgumentException("flipping a label needs at least 2 classes");
    }
    double u = Seeds.unit(Seeds.mix(seed ^ LABEL_SALT, exampleId));
    int shift = 1 + (int) Math.min(classes - 2, Math.floor(u * (classes - 1)));
    return (label + shift) % classes;
  }
}
