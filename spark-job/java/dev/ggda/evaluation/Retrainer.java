package dev.ggda.evaluation;

import dev.ggda.config.TrainConfig;
import dev.ggda.data.LoadedData;
import dev.ggda.data.LocalData;
import dev.ggda.math.Architecture;
import dev.ggda.math.Flat;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.model.TrainedModel;
import dev.ggda.training.DistributedTrainer;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The retraining engine of `ggda evaluate` and `ggda prune --validate`: many independent
 * retrainings (subsets x seeds) with the run's own recipe (train.*, one member, train.seed replaced
 * by the spec's seed). When the training set fits an executor ({@link #run}) each retraining is one
 * Spark task training locally, as many at once as the cluster has task slots; otherwise ({@link
 * #runDistributed}) one distributed training follows another. Each finished retraining is stored at
 * once (when a directory is given) and reused by the next call, so an interrupted evaluation
 * resumes where it stopped. A retraining is a pure function of (rows, seed): results do not depend
 * on scheduling, partitioning or task retries.
 */
public final class Retrainer {
  private final SparkSession spark;
  private final Architecture arch;
  private final TrainConfig train;
  private final double l2;
  private Consumer<String> log = line -> {};

  public Retrainer(SparkSession spark, Architecture arch, TrainConfig train, double l2) {
    this.spark = spark;
    this.arch = arch;
    this.train = train;
    this.l2 = l2;
  }

  /** Progress lines ("retrain: 12/100 done ..."). */
  public Retrainer log(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /** The training and evaluation rows, shipped once per call as one broadcast of plain arrays. */
  static final class SharedArrays implements Serializable {
    final float[] x;
    final int[] y;
    final int dim;
    final float[] evalX;
    final int[] evalY;

    SharedArrays(float[] x, int[] y, int dim, float[] evalX, int[] evalY) {
      this.x = x;
      this.y = y;
      this.dim = dim;
      this.evalX = evalX;
      this.evalY = evalY;
    }
  }

  /** A result as Kryo can carry it (records it cannot). */
  static final class Outcome implements Serializable {
    String id;
    long seed;
    float[] margins;
    float[] losses;
    double accuracy;
    double meanLoss;

    static Outcome of(RetrainResult r) {
      Outcome o = new Outcome();
      o.id = r.id();
      o.seed = r.seed();
      o.margins = r.margins();
      o.losses = r.losses();
      o.accuracy = r.accuracy();
      o.meanLoss = r.meanLoss();
      return o;
    }

    RetrainResult toResult() {
      return new RetrainResult(id, seed, margins, losses, accuracy, meanLoss);
    }
  }

  /**
   * Trains one model per spec as parallel Spark tasks and evaluates it on {@code eval}; results in
   * spec order. Finished results under {@code checkpointDir} (may be null) are reused.
   */
  public List<RetrainResult> run(
      LocalData trainData, LocalData eval, List<RetrainSpec> specs, String checkpointDir) {
    RetrainStore store =
        checkpointDir == null
            ? null
            : new RetrainStore(checkpointDir, spark.sparkContext().hadoopConfiguration());
    RetrainResult[] results = new RetrainResult[specs.size()];
    List<Integer> todo = reuse(specs, store, results);
    if (!todo.isEmpty()) {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      Broadcast<SharedArrays> data =
          jsc.broadcast(
              new SharedArrays(
                  trainData.features(),
                  trainData.labels(),
                  trainData.dim(),
                  eval.features(),
                  eval.labels()));
      Architecture a = arch;
      TrainConfig cfg = train.oneMember();
      double lambda = l2;
      int slots = Math.max(1, spark.sparkContext().defaultParallelism());
      ExecutorService pool =
          Executors.newFixedThreadPool(
              Math.min(slots, todo.size()),
              r -> {
                Thread t = new Thread(r, "ggda-retrain");
                t.setDaemon(true);
                return t;
              });
      long start = System.nanoTime();
      int[] done = {0};
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int index : todo) {
          RetrainSpec spec = specs.get(index);
          futures.add(
              pool.submit(
                  () -> {
                    // One single-task job per retraining: the driver stores each result as soon as
                    // it lands.
                    jsc.setJobDescription("ggda retrain " + spec.id());
                    // Kryo cannot build records: the spec travels in the closure (Java
                    // serialization) and the
                    // result comes back as a plain class.
                    RetrainResult r =
                        jsc.parallelize(List.of(index), 1)
                            .map(i -> Outcome.of(trainLocally(spec, data.value(), a, cfg, lambda)))
                            .collect()
                            .get(0)
                            .toResult();
                    if (store != null) {
                      store.write(spec, r);
                    }
                    results[index] = r;
                    synchronized (done) {
                      done[0]++;
                      if (done[0] == todo.size() || done[0] % Math.max(1, todo.size() / 10) == 0) {
                        log.accept(
                            String.format(
                                "retrain: %d/%d done (%.1f s)",
                                done[0], todo.size(), (System.nanoTime() - start) / 1e9));
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : futures) {
          f.get();
        }
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause();
        throw cause instanceof RuntimeException re
            ? re
            : new IllegalStateException("retraining failed: " + cause, cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while retraining", e);
      } finally {
        pool.shutdownNow();
        data.destroy();
      }
    }
    return Arrays.asList(results);
  }

  /**
   * The same for a training set too large for one executor: one distributed training
   * (DistributedTrainer on the spec's rows) after another. {@code positions} are the training set's
   * (example_id, position) from {@link Positions#of}: spec rows are positions.
   */
  public List<RetrainResult> runDistributed(
      LoadedData trainData,
      Dataset<Row> positions,
      LocalData eval,
      List<RetrainSpec> specs,
      String checkpointDir) {
    RetrainStore store =
        checkpointDir == null
            ? null
            : new RetrainStore(checkpointDir, spark.sparkContext().hadoopConfiguration());
    RetrainResult[] results = new RetrainResult[specs.size()];
    List<Integer> todo = reuse(specs, store, results);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int done = 0;
    for (int index : todo) {
      RetrainSpec spec = specs.get(index);
      Broadcast<int[]> kept = jsc.broadcast(spec.rows());
      LoadedData subset =
          new LoadedData(
              Positions.select(trainData.examples(), positions, kept),
              trainData.dim(),
              trainData.classes(),
              spec.rows().length);
      TrainConfig cfg = withSeed(train.oneMember(), spec.seed());
      TrainedModel model = new DistributedTrainer(arch, cfg, l2).train(subset, (fmt, args) -> {});
      kept.destroy();
      RetrainResult r =
          evaluate(
              spec,
              Network.fromFloats(arch, model.finalCheckpoint(0).params()),
              eval.features(),
              eval.labels(),
              eval.dim());
      if (store != null) {
        store.write(spec, r);
      }
      results[index] = r;
      log.accept(String.format("retrain: %d/%d done (distributed)", ++done, todo.size()));
    }
    return Arrays.asList(results);
  }

  private List<Integer> reuse(
      List<RetrainSpec> specs, RetrainStore store, RetrainResult[] results) {
    List<Integer> todo = new ArrayList<>();
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < specs.size(); i++) {
      if (!ids.add(specs.get(i).id())) {
        throw new IllegalArgumentException("duplicate retraining id " + specs.get(i).id());
      }
      results[i] = store == null ? null : store.read(specs.get(i));
      if (results[i] == null) {
        todo.add(i);
      }
    }
    if (specs.size() > todo.size()) {
      log.accept(
          String.format(
              "retrain: %d of %d retrainings reused from earlier runs",
              specs.size() - todo.size(), specs.size()));
    }
    return todo;
  }

  static TrainConfig withSeed(TrainConfig t, long seed) {
    return new TrainConfig(
        t.epochs(),
        t.batchSize(),
        t.learningRate(),
        t.schedule(),
        t.checkpoints(),
        t.members(),
        t.memberFraction(),
        seed,
        t.mode());
  }

  /**
   * One retraining inside a task: SGD on the spec's rows, then the outputs on the evaluation rows.
   */
  static RetrainResult trainLocally(
      RetrainSpec spec, SharedArrays d, Architecture arch, TrainConfig cfg, double l2) {
    TrainingData td = new TrainingData(d.x, d.y, d.dim);
    var checkpoints =
        new LocalTrainer(arch, withSeed(cfg, spec.seed()), l2)
            .trainMember(td, spec.rows(), 0, null);
    float[] theta = checkpoints.get(checkpoints.size() - 1).params();
    return evaluate(spec, Network.fromFloats(arch, theta), d.evalX, d.evalY, d.dim);
  }

  /** Margins and losses of a network on evaluation rows, in chunks. */
  static RetrainResult evaluate(RetrainSpec spec, Network net, float[] x, int[] y, int dim) {
    int n = y.length;
    float[] margins = new float[n];
    float[] losses = new float[n];
    int correct = 0;
    double lossSum = 0;
    int chunk = 4096;
    for (int start = 0; start < n; start += chunk) {
      int size = Math.min(chunk, n - start);
      int[] labels = Arrays.copyOfRange(y, start, start + size);
      INDArray logits = net.logits(Flat.matrix(x, start * dim, size, dim));
      float[] m = Flat.floats(Losses.margin(logits, labels));
      float[] l = Flat.floats(Losses.crossEntropy(logits, labels));
      int[] argmax = logits.argMax(1).toIntVector();
      for (int i = 0; i < size; i++) {
        margins[start + i] = m[i];
        losses[start + i] = l[i];
        lossSum += l[i];
        correct += argmax[i] == labels[i] ? 1 : 0;
      }
    }
    return new RetrainResult(
        spec.id(),
        spec.seed(),
        margins,
        losses,
        n == 0 ? Double.NaN : (double) correct / n,
        n == 0 ? Double.NaN : lossSum / n);
  }
}
