package dev.ggda.data;

import dev.ggda.InputException;
import dev.ggda.config.SyntheticSpec;
import java.util.Iterator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * The seeded Gaussian mixture of {@link SyntheticSpec}, generated on the executors.
 *
 * <p>Row {@code id} is a pure function of (seed, role, id): its values come from a SplitMix64
 * stream keyed by those three, so the output does not depend on the partitioning, the executor or
 * task retries. Per row the stream yields, in order: the true class (uniform), the {@code dim} unit
 * Gaussian noise values around that class's mean, then the label-noise decision and, when flipped,
 * the uniformly drawn other class. Class means depend on the seed only (same for train and
 * targets), and each partition recomputes them rather than having them shipped.
 */
final class SyntheticData {
  /** Salt separating the class-mean stream from every row stream. */
  private static final long MEANS_KEY = 0x6D65616E73L; // "means"

  private SyntheticData() {}

  static void validate(SyntheticSpec s, Source src) {
    String k = src.key("synthetic");
    if (s == null)
      throw new InputException(
          k + ": required for format synthetic (n, dim, classes, label_noise, separation, seed)");
    if (s.n() < 1) throw new InputException(k + ".n: must be >= 1, got " + s.n());
    if (s.dim() < 1) throw new InputException(k + ".dim: must be >= 1, got " + s.dim());
    if (s.classes() < 2) throw new InputException(k + ".classes: must be >= 2, got " + s.classes());
    if (!(s.labelNoise() >= 0 && s.labelNoise() <= 1)) {
      throw new InputException(k + ".label_noise: must be in [0, 1], got " + s.labelNoise());
    }
    if (!(s.separation() >= 0) || Double.isInfinite(s.separation())) {
      throw new InputException(k + ".separation: must be finite and >= 0, got " + s.separation());
    }
  }

  /** Class means, classes x dim, row-major: N(0, separation^2 / dim) per coordinate. */
  static double[] classMeans(long seed, int classes, int dim, double separation) {
    SplitMix64 rng = SplitMix64.keyed(seed, MEANS_KEY);
    double scale = separation / Math.sqrt(dim);
    double[] means = new double[classes * dim];
    for (int i = 0; i < means.length; i++) means[i] = scale * rng.nextGaussian();
    return means;
  }

  /** String.hashCode is fixed by the JLS, so the role key is stable everywhere. */
  static long roleKey(String role) {
    return role.hashCode();
  }

  /** Rows 0..rows-1 of the mixture for this role, in {@code partitions} partitions. */
  static Dataset<Row> generate(
      SparkSession spark, SyntheticSpec s, String role, long rows, int partitions) {
    long seed = s.seed();
    long roleKey = roleKey(role);
    int dim = s.dim();
    int classes = s.classes();
    double noise = s.labelNoise();
    double separation = s.separation();
    // The closure captures these primitives only (the config records are not Serializable).
    MapPartitionsFunction<Long, Row> gen =
        ids -> {
          double[] means = classMeans(seed, classes, dim, separation);
          return new Iterator<Row>() {
            @Override
            public boolean hasNext() {
              return ids.hasNext();
            }

            @Override
            public Row next() {
              long id = ids.next();
              SplitMix64 rng = SplitMix64.keyed(seed, roleKey, id);
              int label = rng.nextInt(classes);
              float[] x = new float[dim];
              for (int j = 0; j < dim; j++)
                x[j] = (float) (means[label * dim + j] + rng.nextGaussian());
              if (rng.nextDouble() < noise)
                label = (label + 1 + rng.nextInt(classes - 1)) % classes;
              return RowFactory.create(id, label, x);
            }
          };
        };
    return spark
        .range(0, rows, 1, partitions)
        .mapPartitions(gen, Encoders.row(Columns.schema(false)));
  }

  /** Enough partitions to use the cluster, and at most ~64 MB of features each. */
  static int defaultPartitions(SparkSession spark, long rows, int dim) {
    long bytes = rows * dim * 4L;
    long bySize = (bytes + (64L << 20) - 1) / (64L << 20);
    long p = Math.max(spark.sparkContext().defaultParallelism(), bySize);
    return (int) Math.max(1, Math.min(p, rows));
  }
}
