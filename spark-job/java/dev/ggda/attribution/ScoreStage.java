package dev.ggda.attribution;

import dev.ggda.data.Columns;
import dev.ggda.featurize.BlockFeatures;
import dev.ggda.spark.Ranks;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Scores on the executors (DESIGN.md section 5, step 6): each featurized block is multiplied by the
 * broadcast operator, and the three score tables are derived from one cached pass. With {@code
 * top_k}, each block keeps only its k best groups per target before the global top-k (a window per
 * target); the group_values rank is a distributed sort, never a single-partition window.
 */
public final class ScoreStage {
  public static final StructType SCORES =
      new StructType()
          .add(Columns.TARGET_ID, DataTypes.LongType, false)
          .add(Columns.GROUP_ID, DataTypes.LongType, false)
          .add(Columns.SCORE, DataTypes.DoubleType, false);

  private ScoreStage() {}

  /** Scores of one block: plain arrays (cached, maybe spilled through Kryo). */
  static final class ScoredBlock implements Serializable {
    final long[] groupIds;
    final int[] sizes;

    /** m x T row-major. */
    final double[] scores;

    final double[] self;

    ScoredBlock(long[] groupIds, int[] sizes, double[] scores, double[] self) {
      this.groupIds = groupIds;
      this.sizes = sizes;
      this.scores = scores;
      this.self = self;
    }
  }

  /**
   * The three tables, lazily defined over one cached scoring pass; call {@link #release()} after
   * writing.
   */
  public static final class Scored {
    public final Dataset<Row> scores;
    public final Dataset<Row> groupValues;
    public final Dataset<Row> selfInfluence;
    private final JavaRDD<ScoredBlock> cached;

    Scored(
        Dataset<Row> scores,
        Dataset<Row> groupValues,
        Dataset<Row> selfInfluence,
        JavaRDD<ScoredBlock> cached) {
      this.scores = scores;
      this.groupValues = groupValues;
      this.selfInfluence = selfInfluence;
      this.cached = cached;
    }

    public void release() {
      cached.unpersist(false);
    }
  }

  public static Scored score(
      SparkSession spark, JavaRDD<BlockFeatures> blocks, ScoreOperator op, Integer topK) {
    return score(spark, blocks, op, topK, null);
  }

  /**
   * @param keys (group_id, group_key) when the groups are named by the user's column, else null:
   *     group_values/ and self_influence/ then carry group_key as their last column
   */
  public static Scored score(
      SparkSession spark,
      JavaRDD<BlockFeatures> blocks,
      ScoreOperator op,
      Integer topK,
      Dataset<Row> keys) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ScoreOperator> bOp = jsc.broadcast(op);
    JavaRDD<ScoredBlock> scored =
        blocks
            .map(
                b -> {
                  dev.ggda.spark.FaultInjection.maybeFail("score");
                  double[][] r = BlockScorer.score(b, bOp.value());
                  return new ScoredBlock(b.groupIds, b.sizes, r[0], r[1]);
                })
            .persist(StorageLevel.MEMORY_AND_DISK());
    long[] targetIds = op.targetIds;
    int t = targetIds.length;

    JavaRDD<Row> scoreRows =
        scored.flatMap(
            b -> (topK == null ? allPairs(b, targetIds) : topPairs(b, targetIds, topK)).iterator());
    Dataset<Row> scores = spark.createDataFrame(scoreRows, SCORES);
    if (topK != null) {
      var w =
          Window.partitionBy(Columns.TARGET_ID)
              .orderBy(functions.col(Columns.SCORE).desc(), functions.col(Columns.GROUP_ID).asc());
      scores =
          scores
              .withColumn(Columns.RANK, functions.row_number().over(w))
              .where(functions.col(Columns.RANK).leq(topK))
              .drop(Columns.RANK);
    }

    StructType valueSchema =
        new StructType()
            .add(Columns.GROUP_ID, DataTypes.LongType, false)
            .add(Columns.SIZE, DataTypes.LongType, false)
            .add(Columns.VALUE, DataTypes.DoubleType, false)
            .add(Columns.SELF_INFLUENCE, DataTypes.DoubleType, false);
    JavaRDD<Row> valueRows =
        scored.flatMap(
            b -> {
              List<Row> rows = new ArrayList<>(b.groupIds.length);
              for (int j = 0; j < b.groupIds.length; j++) {
                double v = 0;
                for (int i = 0; i < t; i++) {
                  v += b.scores[j * t + i];
                }
                rows.add(RowFactory.create(b.groupIds[j], (long) b.sizes[j], v, b.self[j]));
              }
              return rows.iterator();
            });
    Dataset<Row> values = spark.createDataFrame(valueRows, valueSchema);
    Dataset<Row> groupValues =
        Ranks.rank(
                spark,
                values.withColumn(
                    Columns.VALUE_PER_EXAMPLE,
                    functions.col(Columns.VALUE).divide(functions.col(Columns.SIZE))),
                functions.col(Columns.VALUE).desc(),
                functions.col(Columns.GROUP_ID).asc())
            .select(
                Columns.GROUP_ID,
                Columns.SIZE,
                Columns.VALUE,
                Columns.VALUE_PER_EXAMPLE,
                Columns.RANK);
    Dataset<Row> selfInfluence =
        op.selfInfluence ? values.select(Columns.GROUP_ID, Columns.SELF_INFLUENCE) : null;
    if (keys != null) {
      groupValues = groupValues.join(keys, Columns.GROUP_ID);
      selfInfluence = selfInfluence == null ? null : selfInfluence.join(keys, Columns.GROUP_ID);
    }
    return new Scored(scores, groupValues, selfInfluence, scored);
  }

  private static List<Row> allPairs(ScoredBlock b, long[] targetIds) {
    int t = targetIds.length;
    List<Row> rows = new ArrayList<>(b.groupIds.length * t);
    for (int j = 0; j < b.groupIds.length; j++) {
      for (int i = 0; i < t; i++) {
        rows.add(RowFactory.create(targetIds[i], b.groupIds[j], b.scores[j * t + i]));
      }
    }
    return rows;
  }

  /**
   * The block's k highest scores per target (ties by group id), via one bounded heap per target.
   */
  private static List<Row> topPairs(ScoredBlock b, long[] targetIds, int k) {
    int t = targetIds.length;
    int m = b.groupIds.length;
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < t; i++) {
      final int target = i;
      // Min-heap on (score, -group id): the weakest of the current top k at the head.
      PriorityQueue<Integer> heap =
          new PriorityQueue<>(
              (x, y) -> {
                int c = Double.compare(b.scores[x * t + target], b.scores[y * t + target]);
                return c != 0 ? c : Long.compare(b.groupIds[y], b.groupIds[x]);
              });
      for (int j = 0; j < m; j++) {
        heap.add(j);
        if (heap.size() > k) {
          heap.poll();
        }
      }
      for (int j : heap) {
        rows.add(RowFactory.create(targetIds[i], b.groupIds[j], b.scores[j * t + i]));
      }
    }
    return rows;
  }
}
