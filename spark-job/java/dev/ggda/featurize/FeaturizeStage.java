package dev.ggda.featurize;

import dev.ggda.config.ComputeDevice;
import dev.ggda.data.Columns;
import dev.ggda.math.Architecture;
import dev.ggda.math.FeaturizeBackend;
import dev.ggda.math.Featurizer;
import dev.ggda.spark.ExampleRecord;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Featurize on the executors (DESIGN.md section 5, step 4). Groups are cut into blocks by group id
 * (block = group_id / groupsPerBlock), each block's rows are brought together and sorted by (group,
 * example id), and a {@link FeaturizeBackend} runs on whole blocks: the CPU's, or the GPU's that
 * Spark assigned the task ({@link FeaturizeBackends}, {@code compute.device}). Because a block's
 * content and order depend only on ids, the features are the same for any number of partitions,
 * executors or retries (and the same up to float32 rounding on either backend). Only k-dimensional
 * group features and k x k kernel sums leave a task.
 */
public final class FeaturizeStage {
  private FeaturizeStage() {}

  /** What featurize leaves behind: per-block features (persisted) and the reduced kernels. */
  public static final class Featurized {
    public final JavaRDD<BlockFeatures> blocks;
    public final double[][] kernel;
    public final long[] kernelRows;
    public final long groups;

    public Featurized(
        JavaRDD<BlockFeatures> blocks, double[][] kernel, long[] kernelRows, long groups) {
      this.blocks = blocks;
      this.kernel = kernel;
      this.kernelRows = kernelRows;
      this.groups = groups;
    }
  }

  /** Model parameters per slot, shipped once per executor. */
  public static final class Slots implements Serializable {
    final int[] member;
    final int[] checkpoint;
    final float[][] params;

    public Slots(int[] member, int[] checkpoint, float[][] params) {
      this.member = member;
      this.checkpoint = checkpoint;
      this.params = params;
    }

    public int size() {
      return params.length;
    }

    /** Each slot's flat parameters (shared, not copied). */
    public float[][] params() {
      return params;
    }

    public int checkpointIndex(int slot) {
      return checkpoint[slot];
    }

    public int member(int slot) {
      return member[slot];
    }

    List<Featurizer.Slot> toList() {
      List<Featurizer.Slot> out = new ArrayList<>();
      for (int i = 0; i < params.length; i++) {
        out.add(new Featurizer.Slot(member[i], checkpoint[i], params[i]));
      }
      return out;
    }
  }

  /**
   * @param examples canonical examples (example_id, label, features)
   * @param groups example_id, group_id; every example in exactly one group
   * @param groupsPerBlock groups featurized together (bounded by the stacked-gradient memory)
   * @param device where each task featurizes
   */
  public static Featurized run(
      Dataset<Row> examples,
      Dataset<Row> groups,
      Architecture arch,
      Slots slots,
      Featurizer.Spec spec,
      int groupsPerBlock,
      int partitions,
      ComputeDevice device) {
    JavaSparkContext jsc =
        JavaSparkContext.fromSparkContext(examples.sparkSession().sparkContext());
    Broadcast<Slots> bSlots = jsc.broadcast(slots);
    int dim = arch.inputDim();
    JavaPairRDD<BlockKey, ExampleRecord> keyed =
        ExampleRecord.withGroup(examples.join(groups, Columns.EXAMPLE_ID), Columns.GROUP_ID)
            .mapToPair(r -> new Tuple2<>(new BlockKey(r.group / groupsPerBlock, r.group, r.id), r));
    int s = slots.size();
    // One pass computes both the block features and, as the last element of each partition, the
    // partition's kernel sum; the kernels are reduced, then only the block features stay cached.
    JavaRDD<Object> both =
        keyed
            .repartitionAndSortWithinPartitions(new BlockPartitioner(partitions))
            .mapPartitions(
                it -> {
                  dev.ggda.spark.FaultInjection.maybeFail("featurize");
                  return featurizeSorted(
                      it,
                      FeaturizeBackends.forTask(device),
                      arch,
                      bSlots.value().toList(),
                      spec,
                      dim,
                      s);
                })
            .persist(StorageLevel.MEMORY_AND_DISK());
    KernelSum sum =
        both.filter(o -> o instanceof KernelSum)
            .map(o -> (KernelSum) o)
            .treeAggregate(new KernelSum(s), KernelSum::add, KernelSum::add);
    JavaRDD<BlockFeatures> blocks =
        both.filter(o -> o instanceof BlockFeatures)
            .map(o -> (BlockFeatures) o)
            .persist(StorageLevel.MEMORY_AND_DISK());
    long groupCount = blocks.map(b -> (long) b.groups()).fold(0L, Long::sum);
    both.unpersist(false);
    // bSlots stays alive: the cached blocks keep it in their lineage (a recompute needs it).
    boolean withKernel = spec.moment() != Featurizer.Moment.NONE;
    return new Featurized(blocks, withKernel ? sum.kernel : null, sum.rows, groupCount);
  }

  /** Streams the sorted rows block by block; after the last block, the partition's kernel sum. */
  private static Iterator<Object> featurizeSorted(
      Iterator<Tuple2<BlockKey, ExampleRecord>> it,
      FeaturizeBackend backend,
      Architecture arch,
      List<Featurizer.Slot> slots,
      Featurizer.Spec spec,
      int dim,
      int slotCount) {
    return new Iterator<>() {
      Tuple2<BlockKey, ExampleRecord> pending = it.hasNext() ? it.next() : null;
      final KernelSum kernel = new KernelSum(slotCount);
      boolean kernelSent;

      @Override
      public boolean hasNext() {
        return pending != null || !kernelSent;
      }

      @Override
      public Object next() {
        if (pending == null) {
          kernelSent = true;
          return kernel;
        }
        long block = pending._1().block;
        List<Tuple2<BlockKey, ExampleRecord>> rows = new ArrayList<>();
        while (pending != null && pending._1().block == block) {
          rows.add(pending);
          pending = it.hasNext() ? it.next() : null;
        }
        long t0 = System.nanoTime();
        Featurizer.Rows blockRows = toRows(rows, dim);
        long t1 = System.nanoTime();
        BlockFeatures features =
            new BlockFeatures((int) block, backend.featurize(arch, slots, spec, blockRows));
        org.slf4j.LoggerFactory.getLogger(FeaturizeStage.class)
            .debug(
                String.format(
                    "block %d: %d rows, %d groups: rows %.2f s, featurize on %s %.2f s",
                    block,
                    blockRows.rows(),
                    blockRows.groups(),
                    (t1 - t0) / 1e9,
                    backend.device(),
                    (System.nanoTime() - t1) / 1e9));
        if (features.kernel != null) {
          kernel.add(KernelSum.of(features));
          features.kernel = null;
        }
        return features;
      }
    };
  }

  static Featurizer.Rows toRows(List<Tuple2<BlockKey, ExampleRecord>> rows, int dim) {
    int n = rows.size();
    float[] x = new float[n * dim];
    int[] y = new int[n];
    long[] ids = new long[n];
    List<Long> groupIds = new ArrayList<>();
    List<Integer> starts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BlockKey key = rows.get(i)._1();
      ExampleRecord r = rows.get(i)._2();
      if (groupIds.isEmpty() || groupIds.get(groupIds.size() - 1) != key.group) {
        groupIds.add(key.group);
        starts.add(i);
      }
      ids[i] = key.example;
      y[i] = r.label;
      if (r.features.length != dim) {
        throw new IllegalArgumentException(
            "example " + r.id + " has " + r.features.length + " features, expected " + dim);
      }
      System.arraycopy(r.features, 0, x, i * dim, dim);
    }
    starts.add(n);
    return new Featurizer.Rows(
        x,
        y,
        ids,
        dim,
        groupIds.stream().mapToLong(Long::longValue).toArray(),
        starts.stream().mapToInt(Integer::intValue).toArray());
  }

  /** Sort key: block, then group, then example id. */
  static final class BlockKey implements Serializable, Comparable<BlockKey> {
    final long block;
    final long group;
    final long example;

    BlockKey(long block, long group, long example) {
      this.block = block;
      this.group = group;
      this.example = example;
    }

    @Override
    public int compareTo(BlockKey o) {
      int c = Long.compare(block, o.block);
      if (c == 0) {
        c = Long.compare(group, o.group);
      }
      return c != 0 ? c : Long.compare(example, o.example);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BlockKey k
          && k.block == block
          && k.group == group
          && k.example == example;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(block * 31 + group) * 31 + Long.hashCode(example);
    }
  }

  /** All rows of a block go to one partition. */
  static final class BlockPartitioner extends Partitioner {
    private final int partitions;

    BlockPartitioner(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (int) Math.floorMod(((BlockKey) key).block, (long) partitions);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BlockPartitioner p && p.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /** Per-slot k x k kernel sums, reduced in double. */
  static final class KernelSum implements Serializable {
    double[][] kernel;
    long[] rows;

    KernelSum(int slots) {
      this.kernel = new double[slots][];
      this.rows = new long[slots];
    }

    static KernelSum of(BlockFeatures b) {
      KernelSum s = new KernelSum(b.kernel.length);
      s.kernel = b.kernel;
      s.rows = b.kernelRows.clone();
      return s;
    }

    KernelSum add(KernelSum o) {
      for (int i = 0; i < kernel.length; i++) {
        if (o.kernel[i] == null) {
          continue;
        }
        if (kernel[i] == null) {
          kernel[i] = o.kernel[i].clone();
        } else {
          for (int j = 0; j < kernel[i].length; j++) {
            kernel[i][j] += o.kernel[i][j];
          }
        }
        rows[i] += o.rows[i];
      }
      return this;
    }
  }
}
