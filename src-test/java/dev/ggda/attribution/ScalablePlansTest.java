package dev.ggda.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.Dependency;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The scoring and ranking stages scale out: no step of scores/, group_values/ or self_influence/
 * moves all rows into one partition (the physical plans hold no single-partition exchange and the
 * RDD lineage no one-partition shuffle), and the distributed rank is the rank a driver-side sort
 * gives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScalablePlansTest {
  static final int GROUPS = 40;
  AttributionFixture fx;

  @BeforeAll
  void setUp() {
    fx =
        new AttributionFixture(160, 6, 4, 3, GROUPS, 21)
            .train(Architecture.logistic(4, 3), 2, 1, 1, 0.05, 3);
  }

  private ScoreStage.Scored tables(Integer topK) {
    var cfg =
        AttributionFixture.config(
            AttributionMethod.IF,
            ProjectionKind.RADEMACHER,
            8,
            KernelMode.EXACT,
            HessianMode.PROJECTED,
            0.01);
    AttributionStage.Prepared p =
        new AttributionStage(cfg, line -> {})
            .prepare(fx.trainData(3), fx.groupAssignment(3), fx.targetData(2), fx.model, fx.n, 3);
    return ScoreStage.score(SparkTestSession.get(), p.blocks, p.operator, topK);
  }

  @Test
  void noScoreTableFunnelsItsRowsThroughOnePartition() {
    for (Integer topK : new Integer[] {null, 3}) {
      ScoreStage.Scored t = tables(topK);
      for (Dataset<Row> table : List.of(t.scores, t.groupValues, t.selfInfluence)) {
        assertEquals(
            List.of(),
            singlePartitionSteps(table),
            "top_k " + topK + ": " + table.queryExecution().executedPlan());
        table.count();
      }
      t.release();
    }
  }

  /** The check itself catches the global window group_values used to rank with. */
  @Test
  void aGlobalWindowIsCaught() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> values = spark.range(100).repartition(4).withColumn("value", functions.rand(1));
    Dataset<Row> global =
        values.withColumn(
            "rank", functions.row_number().over(Window.orderBy(functions.col("value").desc())));
    assertFalse(
        singlePartitionSteps(global).isEmpty(), "a window without partitionBy is one partition");
  }

  @Test
  void groupValueRanksAreTheDriverSideSortOrder() {
    ScoreStage.Scored t = tables(null);
    List<Row> rows = new ArrayList<>(t.groupValues.collectAsList());
    t.release();
    assertEquals(GROUPS, rows.size());
    List<Row> expected = new ArrayList<>(rows);
    expected.sort(
        Comparator.<Row>comparingDouble(r -> -r.getDouble(2)).thenComparingLong(r -> r.getLong(0)));
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(
          i + 1L, expected.get(i).getLong(4), "rank of group " + expected.get(i).getLong(0));
    }
    assertTrue(
        rows.stream().map(r -> r.getDouble(2)).distinct().count() > GROUPS / 2,
        "values are not all tied");
  }

  /**
   * Steps that move every row into one partition: a SinglePartition exchange in the physical plan,
   * or a shuffle into one partition anywhere in the RDD lineage (the test session shuffles into 4).
   */
  static List<String> singlePartitionSteps(Dataset<Row> table) {
    List<String> found = new ArrayList<>();
    String plan = table.queryExecution().executedPlan().toString();
    if (plan.contains("SinglePartition")) {
      found.add("plan: " + plan);
    }
    collectOnePartitionShuffles(table.rdd(), found, new ArrayList<>());
    return found;
  }

  private static void collectOnePartitionShuffles(
      RDD<?> rdd, List<String> found, List<Integer> seen) {
    if (seen.contains(rdd.id())) {
      return;
    }
    seen.add(rdd.id());
    for (Dependency<?> d : scala.jdk.javaapi.CollectionConverters.asJava(rdd.dependencies())) {
      if (d instanceof ShuffleDependency<?, ?, ?> s && s.partitioner().numPartitions() == 1) {
        found.add("shuffle into one partition above " + d.rdd());
      }
      collectOnePartitionShuffles(d.rdd(), found, seen);
    }
  }
}
