package dev.ggda.training;

import dev.ggda.config.TrainConfig;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import dev.ggda.math.Seeds;
import dev.ggda.model.Checkpoint;
import dev.ggda.model.TrainedModel;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import scala.Tuple2;

/**
 * Training for data sets larger than the driver: sharded SGD with parameter averaging. The rows are
 * split into a fixed number of shards by a seeded hash of their example id (not by Spark
 * partition), each round every shard runs one epoch of mini-batch SGD from the current parameters
 * on an executor, and the driver averages the shard models weighted by their row counts, in shard
 * order. Shards, shuffles and the averaging order depend only on (seed, ids), so the trained model
 * is the same whatever the partitioning, executor count or task retries. Only S parameter vectors
 * travel per round (S = shards), never data.
 */
public final class DistributedTrainer {
  /**
   * Feature values one shard holds in a task (~16 MB of float32; building it also holds its
   * shuffled rows). Small, because in local mode the cached training set fills the storage share of
   * the same heap, mostly in large blocks, and a large array then finds no contiguous room.
   */
  static final long SHARD_VALUES = 4_000_000L;

  /** Progress sink (the pipeline's console). */
  public interface Log {
    void info(String format, Object... args);
  }

  private final Architecture arch;
  private final TrainConfig config;
  private final double l2;

  public DistributedTrainer(Architecture arch, TrainConfig config, double l2) {
    this.arch = arch;
    this.config = config;
    this.l2 = l2;
  }

  /** Number of shards for n rows of dim features: enough that each fits a task comfortably. */
  public static int shardCount(long n, int dim) {
    long perShard = Math.max(1, SHARD_VALUES / Math.max(1, dim));
    return (int) Math.max(2, (n + perShard - 1) / perShard);
  }

  public TrainedModel train(LoadedData data, Log log) {
    int shards = shardCount(data.count(), data.dim());
    long seed = config.seed();
    int dim = data.dim();
    JavaRDD<Shard> shardRdd =
        // Plain records cross the shuffle: a Row carries its features as boxed Floats (about 5x the
        // bytes), which ran a 2 GB heap out of memory while building 3M-row shards.
        dev.ggda.spark.ExampleRecord.of(data.examples())
            .mapToPair(
                r -> new Tuple2<>((int) Math.floorMod(Seeds.mix(seed, r.id), (long) shards), r))
            .partitionBy(new HashPartitioner(shards))
            .mapPartitionsWithIndex((idx, it) -> List.of(Shard.of(idx, it, dim)).iterator(), true)
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<List<Checkpoint>> members = new ArrayList<>();
      for (int m = 0; m < config.members(); m++) {
        members.add(trainMember(shardRdd, m, log));
      }
      return new TrainedModel(arch, l2, members);
    } finally {
      shardRdd.unpersist(false);
    }
  }

  private List<Checkpoint> trainMember(JavaRDD<Shard> shardRdd, int member, Log log) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(shardRdd.context());
    int epochs = config.epochs();
    // Rounds play the role of steps: the schedule decays per round, checkpoints fall on rounds.
    SgdSchedule plan =
        SgdSchedule.of(epochs, config.learningRate(), config.schedule(), config.checkpoints());
    float[] theta =
        Network.initialise(arch, Seeds.mix(config.seed(), member), DataType.FLOAT).paramsAsFloats();
    List<Checkpoint> checkpoints = new ArrayList<>();
    TrainConfig cfg = config;
    Architecture a = arch;
    double lambda = l2;
    int members = config.members();
    for (int round = 0; round < epochs; round++) {
      Broadcast<float[]> start = jsc.broadcast(theta);
      double rate = plan.rateAt(round);
      int r = round;
      List<ShardResult> results =
          new ArrayList<>(
              shardRdd
                  .map(
                      shard ->
                          shard.trainRound(a, cfg, lambda, members, member, r, rate, start.value()))
                  .collect());
      start.destroy();
      results.sort(Comparator.comparingInt(ShardResult::shard));
      theta = average(results);
      long rows = results.stream().mapToLong(ShardResult::rows).sum();
      double loss = results.stream().mapToDouble(ShardResult::lossSum).sum() / Math.max(1, rows);
      log.info(
          "train: member %d/%d round %d/%d over %d shards, %,d rows, mean loss %.4f",
          member + 1, members, round + 1, epochs, results.size(), rows, loss);
      int next = checkpoints.size();
      if (next < plan.checkpointSteps().length && round + 1 == plan.checkpointSteps()[next]) {
        checkpoints.add(
            new Checkpoint(
                member, next, round + 1, round + 1, plan.checkpointRate(next), theta.clone()));
      }
    }
    return checkpoints;
  }

  /** Row-weighted mean of the shard models, accumulated in double in shard order. */
  static float[] average(List<ShardResult> results) {
    double[] sum = null;
    long rows = 0;
    for (ShardResult r : results) {
      if (r.rows() == 0) {
        continue;
      }
      if (sum == null) {
        sum = new double[r.params().length];
      }
      for (int i = 0; i < sum.length; i++) {
        sum[i] += (double) r.params()[i] * r.rows();
      }
      rows += r.rows();
    }
    if (sum == null) {
      throw new IllegalStateException("no shard had training rows");
    }
    float[] out = new float[sum.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (sum[i] / rows);
    }
    return out;
  }

  /**
   * One shard's outcome of a round. A plain class, not a record: task results go through Kryo 4,
   * which cannot set a record's final fields.
   */
  static final class ShardResult implements Serializable {
    private final int shard;
    private final long rows;
    private final double lossSum;
    private final float[] params;

    ShardResult(int shard, long rows, double lossSum, float[] params) {
      this.shard = shard;
      this.rows = rows;
      this.lossSum = lossSum;
      this.params = params;
    }

    int shard() {
      return shard;
    }

    long rows() {
      return rows;
    }

    double lossSum() {
      return lossSum;
    }

    float[] params() {
      return params;
    }
  }

  /** The rows of one shard, in example-id order. */
  static final class Shard implements Serializable {
    final int index;
    final long[] ids;
    final float[] x;
    final int[] y;
    final int dim;

    Shard(int index, long[] ids, float[] x, int[] y, int dim) {
      this.index = index;
      this.ids = ids;
      this.x = x;
      this.y = y;
      this.dim = dim;
    }

    static Shard of(
        int index, Iterator<Tuple2<Integer, dev.ggda.spark.ExampleRecord>> it, int dim) {
      List<dev.ggda.spark.ExampleRecord> rows = new ArrayList<>();
      it.forEachRemaining(t -> rows.add(t._2()));
      rows.sort(Comparator.comparingLong(r -> r.id));
      int n = rows.size();
      long[] ids = new long[n];
      int[] y = new int[n];
      float[] x = new float[n * dim];
      for (int i = 0; i < n; i++) {
        dev.ggda.spark.ExampleRecord r = rows.get(i);
        ids[i] = r.id;
        y[i] = r.label;
        System.arraycopy(r.features, 0, x, i * dim, dim);
      }
      return new Shard(index, ids, x, y, dim);
    }

    /** Rows of this shard that member m trains on: all, or a seeded Bernoulli sample by id. */
    int[] memberRows(int members, int member, double fraction, long seed) {
      if (members == 1 || fraction >= 1.0) {
        int[] all = new int[ids.length];
        Arrays.setAll(all, i -> i);
        return all;
      }
      return java.util.stream.IntStream.range(0, ids.length)
          .filter(i -> Seeds.unit(Seeds.mix(Seeds.mix(seed, 1000 + member), ids[i])) < fraction)
          .toArray();
    }

    ShardResult trainRound(
        Architecture arch,
        TrainConfig cfg,
        double l2,
        int members,
        int member,
        int round,
        double rate,
        float[] start) {
      int[] rows = memberRows(members, member, cfg.memberFraction(), cfg.seed());
      if (rows.length == 0) {
        return new ShardResult(index, 0, 0, start);
      }
      Network net = Network.fromFloats(arch, start);
      SplittableRandom shuffle =
          new SplittableRandom(
              Seeds.mix(Seeds.mix(cfg.seed(), 1_000_000L * (member + 1) + round), index));
      double loss =
          SgdEpoch.run(
              net,
              new TrainingData(x, y, dim),
              rows,
              cfg.batchSize(),
              l2,
              s -> rate,
              0,
              shuffle,
              null);
      return new ShardResult(index, rows.length, loss, net.paramsAsFloats());
    }
  }
}
