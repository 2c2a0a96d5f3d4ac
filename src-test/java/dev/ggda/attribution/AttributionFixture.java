package dev.ggda.attribution;

import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.LrSchedule;
import dev.ggda.config.ProjectionConfig;
import dev.ggda.config.ProjectionKind;
import dev.ggda.config.TargetMode;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.model.TrainedModel;
import dev.ggda.testing.SparkTestSession;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Tiny seeded problems with everything a brute-force float64 reference needs: the rows on the
 * driver, a trained model, a group assignment, and helpers for exact per-example gradients. Public
 * for the GPU test, which runs the same pipelines on both backends.
 */
public final class AttributionFixture {
  final int n;
  final int dim;
  final int classes;
  final float[] x;
  final int[] y;
  final float[] tx;
  final int[] ty;
  final long[] groupOf;
  final int groups;
  TrainedModel model;

  public AttributionFixture(int n, int targets, int dim, int classes, int groups, long seed) {
    this.n = n;
    this.dim = dim;
    this.classes = classes;
    this.groups = groups;
    SplittableRandom rnd = new SplittableRandom(seed);
    double[][] means = new double[classes][dim];
    for (double[] m : means) {
      for (int j = 0; j < dim; j++) {
        m[j] = rnd.nextGaussian() * 1.5;
      }
    }
    x = new float[n * dim];
    y = new int[n];
    fill(rnd, means, x, y);
    tx = new float[targets * dim];
    ty = new int[targets];
    fill(rnd, means, tx, ty);
    groupOf = new long[n];
    // Every group non-empty: first `groups` examples seed them, the rest go at random.
    for (int i = 0; i < n; i++) {
      groupOf[i] = i < groups ? i : rnd.nextInt(groups);
    }
  }

  private void fill(SplittableRandom rnd, double[][] means, float[] xs, int[] ys) {
    for (int i = 0; i < ys.length; i++) {
      ys[i] = rnd.nextInt(classes);
      for (int j = 0; j < dim; j++) {
        xs[i * dim + j] = (float) (means[ys[i]][j] + rnd.nextGaussian());
      }
    }
  }

  public AttributionFixture train(
      Architecture arch, int epochs, int checkpoints, int members, double l2, long seed) {
    TrainConfig tc =
        new TrainConfig(
            epochs, 16, 0.1, LrSchedule.LINEAR, checkpoints, members, 0.7, seed, TrainMode.LOCAL);
    model = new LocalTrainer(arch, tc, l2).train(new TrainingData(x, y, dim), null);
    return this;
  }

  public static AttributeConfig config(
      AttributionMethod method,
      ProjectionKind kind,
      int k,
      KernelMode kernel,
      HessianMode hessian,
      double damping) {
    return new AttributeConfig(
        method, new ProjectionConfig(kind, k, 3), kernel, hessian, damping, TargetMode.PER_EXAMPLE);
  }

  LoadedData trainData(int partitions) {
    return loaded(x, y, 0, partitions);
  }

  LoadedData targetData(int partitions) {
    return loaded(tx, ty, 1_000_000L, partitions);
  }

  private LoadedData loaded(float[] xs, int[] ys, long idBase, int partitions) {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ys.length; i++) {
      float[] f = java.util.Arrays.copyOfRange(xs, i * dim, (i + 1) * dim);
      List<Float> boxed = new ArrayList<>();
      for (float v : f) {
        boxed.add(v);
      }
      rows.add(RowFactory.create(idBase + i, ys[i], boxed.toArray(new Float[0])));
    }
    Dataset<Row> df = spark.createDataFrame(rows, Columns.schema(false)).repartition(partitions);
    return new LoadedData(df, dim, classes, ys.length);
  }

  Dataset<Row> groupAssignment(int partitions) {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create((long) i, groupOf[i]));
    }
    StructType schema =
        new StructType()
            .add("example_id", DataTypes.LongType, false)
            .add("group_id", DataTypes.LongType, false);
    return spark.createDataFrame(rows, schema).repartition(partitions);
  }

  /** (target id, group id) -> score from the pipeline, all pairs. */
  Map<String, Double> pipelineScores(AttributeConfig cfg, int partitions) {
    return pipelineScores(cfg, partitions, null);
  }

  /** The same with output.top_k (null keeps all pairs). */
  Map<String, Double> pipelineScores(AttributeConfig cfg, int partitions, Integer topK) {
    return pipeline(cfg, partitions, topK).scores();
  }

  /**
   * What the pipeline wrote: (target id, group id) -> score, and group id -> self-influence (null
   * when not computed).
   */
  public record PipelineOutput(Map<String, Double> scores, Map<Long, Double> selfInfluence) {}

  PipelineOutput pipeline(AttributeConfig cfg, int partitions, Integer topK) {
    return pipeline(new AttributionStage(cfg, line -> {}), partitions, topK);
  }

  public PipelineOutput pipeline(AttributionStage stage, int partitions, Integer topK) {
    AttributionStage.Prepared p =
        stage.prepare(
            trainData(partitions),
            groupAssignment(partitions),
            targetData(partitions),
            model,
            n,
            partitions);
    ScoreStage.Scored t = ScoreStage.score(SparkTestSession.get(), p.blocks, p.operator, topK);
    Map<String, Double> out = new HashMap<>();
    for (Row r : t.scores.collectAsList()) {
      out.put(key(r.getLong(0), r.getLong(1)), r.getDouble(2));
    }
    Map<Long, Double> self = null;
    if (t.selfInfluence != null) {
      self = new HashMap<>();
      for (Row r : t.selfInfluence.collectAsList()) {
        self.put(r.getLong(0), r.getDouble(1));
      }
    }
    t.release();
    p.blocks.unpersist(false);
    return new PipelineOutput(out, self);
  }

  static String key(long target, long group) {
    return target + "/" + group;
  }

  // ---- float64 brute force

  static Network asDouble(Architecture arch, float[] params) {
    return new Network(arch, Nd4j.createFromArray(params).castTo(DataType.DOUBLE));
  }

  static INDArray row(float[] xs, int i, int dim) {
    double[] r = new double[dim];
    for (int j = 0; j < dim; j++) {
      r[j] = xs[i * dim + j];
    }
    return Nd4j.create(r, new long[] {1, dim}, 'c');
  }

  /** grad l(z_i) by a single-example backward pass, float64. */
  static double[] lossGrad(Network net, float[] xs, int[] ys, int i, int dim) {
    return net.lossGradient(row(xs, i, dim), new int[] {ys[i]}).gradient().sum().toDoubleVector();
  }

  /** grad f(z_i), TRAK's margin, float64. */
  static double[] marginGrad(Network net, float[] xs, int[] ys, int i, int dim) {
    Network.ForwardPass fp = net.forward(row(xs, i, dim));
    return net.backward(fp, Losses.marginGradient(fp.logits(), new int[] {ys[i]}))
        .sum()
        .toDoubleVector();
  }

  static double q(Network net, float[] xs, int[] ys, int i, int dim) {
    return Losses.oneMinusTrueProbability(net.logits(row(xs, i, dim)), new int[] {ys[i]})
        .getDouble(0);
  }

  double[] groupLossGrad(Network net, long g) {
    double[] sum = null;
    for (int i = 0; i < n; i++) {
      if (groupOf[i] == g) {
        double[] gi = lossGrad(net, x, y, i, dim);
        if (sum == null) {
          sum = gi;
        } else {
          for (int j = 0; j < sum.length; j++) {
            sum[j] += gi[j];
          }
        }
      }
    }
    return sum;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
