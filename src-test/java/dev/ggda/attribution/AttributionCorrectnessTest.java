package dev.ggda.attribution;

import static dev.ggda.attribution.AttributionFixture.dot;
import static dev.ggda.attribution.AttributionFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.CholeskySolver;
import dev.ggda.math.Network;
import dev.ggda.model.Checkpoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every method's pipeline scores (executors, projection, blocks, solves) against an independent
 * float64 brute force on tiny data: per-example gradients from single-example backward passes,
 * dense matrices, direct solves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttributionCorrectnessTest {
  static final double L2 = 0.05;
  AttributionFixture lr;
  AttributionFixture mlp;
  Architecture lrArch;
  Architecture mlpArch;

  @BeforeAll
  void setUp() {
    lrArch = Architecture.logistic(4, 3);
    lr = new AttributionFixture(60, 5, 4, 3, 12, 11).train(lrArch, 4, 3, 1, L2, 1);
    mlpArch = new Architecture(4, new int[] {5}, 3, ActivationKind.TANH);
    mlp = new AttributionFixture(48, 4, 4, 3, 10, 12).train(mlpArch, 3, 3, 2, L2, 2);
  }

  private static void assertRelClose(double expected, double actual, double rel, String what) {
    double scale = Math.max(Math.abs(expected), 1e-3);
    assertEquals(expected, actual, rel * scale, what);
  }

  @Test
  void tracInWeightsEveryCheckpointByItsLearningRate() {
    AttributionFixture.PipelineOutput out =
        mlp.pipeline(
            AttributionFixture.config(
                AttributionMethod.TRACIN,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                0),
            3,
            null);
    List<Checkpoint> cps = mlp.model.members().get(0);
    assertEquals(3, cps.size());
    for (int t = 0; t < 4; t++) {
      for (long g = 0; g < mlp.groups; g++) {
        double expected = 0;
        for (Checkpoint cp : cps) {
          Network net = AttributionFixture.asDouble(mlpArch, cp.params());
          expected +=
              cp.learningRate()
                  * dot(
                      AttributionFixture.lossGrad(net, mlp.tx, mlp.ty, t, 4),
                      mlp.groupLossGrad(net, g));
        }
        assertRelClose(
            expected,
            out.scores().get(key(1_000_000L + t, g)),
            1e-4,
            "TracIn target " + t + " group " + g);
      }
    }
    // Self-influence: sum_t eta_t ||g_G(theta_t)||^2 (DESIGN.md section 3).
    for (long g = 0; g < mlp.groups; g++) {
      double expected = 0;
      for (Checkpoint cp : cps) {
        double[] gg = mlp.groupLossGrad(AttributionFixture.asDouble(mlpArch, cp.params()), g);
        expected += cp.learningRate() * dot(gg, gg);
      }
      assertRelClose(
          expected, out.selfInfluence().get(g), 1e-4, "TracIn self-influence of group " + g);
    }
  }

  @Test
  void gradDotAndGradCosMatchBruteForce() {
    Map<String, Double> dotScores =
        lr.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.GRADDOT,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                0),
            2);
    Map<String, Double> cosScores =
        lr.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.GRADCOS,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                0),
            2);
    Network net = AttributionFixture.asDouble(lrArch, lr.model.finalCheckpoint(0).params());
    for (int t = 0; t < 5; t++) {
      double[] gt = AttributionFixture.lossGrad(net, lr.tx, lr.ty, t, 4);
      for (long g = 0; g < lr.groups; g++) {
        double[] gg = lr.groupLossGrad(net, g);
        double d = dot(gt, gg);
        assertRelClose(d, dotScores.get(key(1_000_000L + t, g)), 1e-4, "graddot");
        assertRelClose(
            d / Math.sqrt(dot(gt, gt) * dot(gg, gg)),
            cosScores.get(key(1_000_000L + t, g)),
            1e-4,
            "gradcos");
      }
    }
  }

  @Test
  void trakWithOneMemberNoProjectionAndExactKernelEqualsItsClosedForm() {
    assertTrakClosedForm(0.1, 0.0);
  }

  /**
   * attribute.relative_damping r adds r x trace(K) / k to the diagonal (on top of the absolute
   * one).
   */
  @Test
  void relativeDampingAddsItsMultipleOfTheKernelsMeanEigenvalue() {
    assertTrakClosedForm(0.1, 0.7);
  }

  private void assertTrakClosedForm(double absolute, double relative) {
    AttributionFixture f = new AttributionFixture(40, 3, 4, 3, 8, 21).train(lrArch, 3, 1, 1, L2, 5);
    dev.ggda.config.AttributeConfig config =
        AttributionFixture.config(
                AttributionMethod.TRAK,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                absolute)
            .withDamping(absolute, relative);
    AttributionFixture.PipelineOutput out = f.pipeline(config, 3, null);
    Map<String, Double> scores = out.scores();
    Network net = AttributionFixture.asDouble(lrArch, f.model.finalCheckpoint(0).params());
    int p = (int) lrArch.paramCount();
    double[] k = new double[p * p];
    double[][] phi = new double[f.n][];
    for (int i = 0; i < f.n; i++) {
      phi[i] = AttributionFixture.marginGrad(net, f.x, f.y, i, 4);
      for (int a = 0; a < p; a++) {
        for (int b = 0; b < p; b++) {
          k[a * p + b] += phi[i][a] * phi[i][b];
        }
      }
    }
    double trace = 0;
    for (int a = 0; a < p; a++) {
      trace += k[a * p + a];
    }
    double lambda = absolute + relative * trace / p;
    CholeskySolver solver = CholeskySolver.factor(k, p, lambda);
    for (int t = 0; t < 3; t++) {
      double[] u = solver.solve(AttributionFixture.marginGrad(net, f.tx, f.ty, t, 4), 1);
      for (long g = 0; g < f.groups; g++) {
        double expected = 0;
        for (int i = 0; i < f.n; i++) {
          if (f.groupOf[i] == g) {
            expected += AttributionFixture.q(net, f.x, f.y, i, 4) * dot(u, phi[i]);
          }
        }
        assertRelClose(
            expected, scores.get(key(1_000_000L + t, g)), 2e-4, "TRAK target " + t + " group " + g);
      }
    }
    // Self-influence: the score of G on its own margins, target feature chi_G = sum_{j in G} phi_j:
    // sum_{i in G} Q_i phi_i^T (K + lambda I)^-1 chi_G.
    for (long g = 0; g < f.groups; g++) {
      double[] chi = new double[p];
      for (int j = 0; j < f.n; j++) {
        if (f.groupOf[j] == g) {
          for (int a = 0; a < p; a++) {
            chi[a] += phi[j][a];
          }
        }
      }
      double[] u = solver.solve(chi, 1);
      double expected = 0;
      for (int i = 0; i < f.n; i++) {
        if (f.groupOf[i] == g) {
          expected += AttributionFixture.q(net, f.x, f.y, i, 4) * dot(u, phi[i]);
        }
      }
      assertRelClose(
          expected, out.selfInfluence().get(g), 2e-4, "TRAK self-influence of group " + g);
    }
  }

  /**
   * With every example its own group the sampled kernel would keep only ~10,000 of the rows it has
   * anyway: per-example TRAK must use the exact kernel whatever attribute.kernel says.
   */
  @Test
  void perExampleTrakUsesTheExactKernelWhateverTheKernelSetting() {
    int n = 12_000;
    AttributionFixture f = new AttributionFixture(n, 2, 4, 3, n, 23).train(lrArch, 3, 1, 1, L2, 5);
    Map<String, Double> exact =
        f.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.TRAK,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                0.1),
            2);
    for (KernelMode mode : new KernelMode[] {KernelMode.SAMPLED, KernelMode.BATCHED}) {
      Map<String, Double> other =
          f.pipelineScores(
              AttributionFixture.config(
                  AttributionMethod.TRAK, ProjectionKind.NONE, 0, mode, HessianMode.CG, 0.1),
              2);
      assertEquals(exact.size(), other.size());
      for (var e : exact.entrySet()) {
        assertRelClose(e.getValue(), other.get(e.getKey()), 1e-9, mode + " " + e.getKey());
      }
    }
  }

  @Test
  void influenceExactMatchesBruteForceAndCgAndProjectedAgreeWithIt() {
    double delta = 0.01;
    AttributionFixture.PipelineOutput exactOut =
        lr.pipeline(
            AttributionFixture.config(
                AttributionMethod.IF,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.EXACT,
                delta),
            3,
            null);
    Map<String, Double> exact = exactOut.scores();
    Map<String, Double> cg =
        lr.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.IF,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.CG,
                delta),
            2);
    Map<String, Double> projected =
        lr.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.IF,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.PROJECTED,
                delta),
            2);
    // Brute force: H = (1/n) sum_i Hess l_i + lambda I by central differences of the gradient.
    Network net = AttributionFixture.asDouble(lrArch, lr.model.finalCheckpoint(0).params());
    int p = (int) lrArch.paramCount();
    double[] h = new double[p * p];
    double eps = 1e-5;
    for (int a = 0; a < p; a++) {
      double orig = net.params().getDouble(a);
      net.params().putScalar(a, orig + eps);
      double[] up = sumGrad(net, lr);
      net.params().putScalar(a, orig - eps);
      double[] down = sumGrad(net, lr);
      net.params().putScalar(a, orig);
      for (int b = 0; b < p; b++) {
        h[a * p + b] = (up[b] - down[b]) / (2 * eps) / lr.n;
      }
      h[a * p + a] += L2;
    }
    // symmetrise the finite-difference estimate
    for (int a = 0; a < p; a++) {
      for (int b = 0; b < a; b++) {
        double m = (h[a * p + b] + h[b * p + a]) / 2;
        h[a * p + b] = m;
        h[b * p + a] = m;
      }
    }
    CholeskySolver solver = CholeskySolver.factor(h, p, delta);
    for (int t = 0; t < 5; t++) {
      double[] u = solver.solve(AttributionFixture.lossGrad(net, lr.tx, lr.ty, t, 4), 1);
      for (long g = 0; g < lr.groups; g++) {
        double expected = dot(u, lr.groupLossGrad(net, g)) / lr.n;
        String key = key(1_000_000L + t, g);
        assertRelClose(expected, exact.get(key), 1e-4, "IF exact " + key);
        assertRelClose(exact.get(key), cg.get(key), 1e-4, "IF cg " + key);
        assertRelClose(exact.get(key), projected.get(key), 1e-4, "IF projected " + key);
      }
    }
    // Self-influence: (1/n) g_G^T (H + delta I)^-1 g_G.
    for (long g = 0; g < lr.groups; g++) {
      double[] gg = lr.groupLossGrad(net, g);
      assertRelClose(
          dot(solver.solve(gg, 1), gg) / lr.n,
          exactOut.selfInfluence().get(g),
          1e-4,
          "IF self-influence of group " + g);
    }
  }

  /**
   * Relative damping reads the mean eigenvalue off three different computations (the dense
   * Hessian's diagonal, the Gauss-Newton kernel's, and CG's per-example gradient norms): on an MLP
   * the three modes must still give the same scores.
   */
  @Test
  void relativeDampingGivesTheSameInfluenceWithExactCgAndProjectedHessians() {
    java.util.function.Function<HessianMode, Map<String, Double>> scores =
        mode ->
            mlp.pipelineScores(
                AttributionFixture.config(
                        AttributionMethod.IF, ProjectionKind.NONE, 0, KernelMode.EXACT, mode, 0.001)
                    .withDamping(0.001, 0.5),
                2);
    Map<String, Double> exact = scores.apply(HessianMode.EXACT);
    Map<String, Double> cg = scores.apply(HessianMode.CG);
    Map<String, Double> projected = scores.apply(HessianMode.PROJECTED);
    Map<String, Double> undamped =
        mlp.pipelineScores(
            AttributionFixture.config(
                AttributionMethod.IF,
                ProjectionKind.NONE,
                0,
                KernelMode.EXACT,
                HessianMode.EXACT,
                0.001),
            2);
    double moved = 0;
    for (Map.Entry<String, Double> e : exact.entrySet()) {
      assertRelClose(e.getValue(), cg.get(e.getKey()), 1e-4, "IF cg " + e.getKey());
      assertRelClose(e.getValue(), projected.get(e.getKey()), 1e-4, "IF projected " + e.getKey());
      moved =
          Math.max(
              moved,
              Math.abs(e.getValue() - undamped.get(e.getKey()))
                  / Math.max(Math.abs(e.getValue()), 1e-3));
    }
    assertTrue(
        moved > 1e-2, "relative damping must change the scores; largest relative change " + moved);
  }

  private static double[] sumGrad(Network net, AttributionFixture f) {
    double[] s = new double[(int) net.architecture().paramCount()];
    for (int i = 0; i < f.n; i++) {
      double[] g = AttributionFixture.lossGrad(net, f.x, f.y, i, f.dim);
      for (int j = 0; j < s.length; j++) {
        s[j] += g[j];
      }
    }
    return s;
  }

  /**
   * The evaluate grid reuses one stage across groupings: IF exact sums its Hessian once, charges
   * the reused sum's time to every later cell, and scores exactly as a fresh stage does.
   */
  @Test
  void aStageReusedForAnotherGroupingSumsTheIfHessianOnce() {
    var cfg =
        AttributionFixture.config(
            AttributionMethod.IF,
            ProjectionKind.NONE,
            0,
            KernelMode.EXACT,
            HessianMode.EXACT,
            0.01);
    var spark = dev.ggda.testing.SparkTestSession.get();
    dev.ggda.data.LoadedData train = lr.trainData(2);
    dev.ggda.data.LoadedData targets = lr.targetData(2);
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> perExample =
        train
            .examples()
            .select(
                org.apache.spark.sql.functions.col("example_id"),
                org.apache.spark.sql.functions.col("example_id").as("group_id"));
    AttributionStage reusedStage = new AttributionStage(cfg, line -> {});
    StageClock c1 = new StageClock();
    StageClock c2 = new StageClock();
    StageClock c3 = new StageClock();
    AttributionStage.Prepared first =
        reusedStage.timedBy(c1).prepare(train, lr.groupAssignment(2), targets, lr.model, lr.n, 2);
    AttributionStage.Prepared second =
        reusedStage.timedBy(c2).prepare(train, perExample, targets, lr.model, lr.n, 2);
    AttributionStage.Prepared fresh =
        new AttributionStage(cfg, line -> {})
            .timedBy(c3)
            .prepare(train, perExample, targets, lr.model, lr.n, 2);
    assertTrue(c1.seconds(StageClock.HESSIAN) > 0, "the first grouping sums the Hessian, timed");
    assertEquals(0.0, c1.seconds(StageClock.REUSED));
    assertEquals(0.0, c2.seconds(StageClock.HESSIAN), "the second grouping does not sum it again");
    assertEquals(
        c1.seconds(StageClock.HESSIAN),
        c2.seconds(StageClock.REUSED),
        "and is charged the reused sum");
    assertTrue(
        c3.seconds(StageClock.HESSIAN) > 0 && c3.seconds(StageClock.REUSED) == 0,
        "a fresh stage sums it again");
    java.util.function.Function<AttributionStage.Prepared, List<org.apache.spark.sql.Row>> scores =
        p -> {
          ScoreStage.Scored t = ScoreStage.score(spark, p.blocks, p.operator, null);
          List<org.apache.spark.sql.Row> rows =
              t.scores.orderBy("target_id", "group_id").collectAsList();
          t.release();
          return rows;
        };
    List<org.apache.spark.sql.Row> a = scores.apply(second);
    List<org.apache.spark.sql.Row> b = scores.apply(fresh);
    assertEquals(lr.n * 5L, a.size());
    assertEquals(b, a, "reused and freshly summed Hessians give identical scores");
  }

  /** evaluate asks for no self-influence: the scores must not change, and no table is produced. */
  @Test
  void skippingSelfInfluenceLeavesTheScoresUnchanged() {
    for (AttributionMethod method :
        new AttributionMethod[] {AttributionMethod.TRAK, AttributionMethod.IF}) {
      var cfg =
          AttributionFixture.config(
              method,
              ProjectionKind.RADEMACHER,
              16,
              KernelMode.BATCHED,
              HessianMode.PROJECTED,
              0.01);
      AttributionFixture.PipelineOutput with =
          mlp.pipeline(new AttributionStage(cfg, line -> {}), 2, null);
      AttributionFixture.PipelineOutput without =
          mlp.pipeline(new AttributionStage(cfg, line -> {}).withoutSelfInfluence(), 2, null);
      assertEquals(
          mlp.groups, with.selfInfluence().size(), method + ": self-influence of every group");
      assertTrue(
          without.selfInfluence() == null, method + ": no self_influence table when not asked for");
      assertEquals(with.scores(), without.scores(), method + ": identical scores");
    }
  }

  @Test
  void scoresDoNotDependOnPartitioning() {
    var cfg =
        AttributionFixture.config(
            AttributionMethod.TRAK,
            ProjectionKind.RADEMACHER,
            16,
            KernelMode.BATCHED,
            HessianMode.CG,
            0.01);
    Map<String, Double> one = mlp.pipelineScores(cfg, 1);
    Map<String, Double> three = mlp.pipelineScores(cfg, 3);
    Map<String, Double> eight = mlp.pipelineScores(cfg, 8);
    assertEquals(one.keySet(), eight.keySet());
    for (String k : one.keySet()) {
      assertRelClose(one.get(k), three.get(k), 1e-9, "3 partitions " + k);
      assertRelClose(one.get(k), eight.get(k), 1e-9, "8 partitions " + k);
    }
    assertTrue(one.values().stream().anyMatch(v -> Math.abs(v) > 1e-6), "scores are not all zero");
  }

  @Test
  void topKKeepsExactlyTheKHighestScoresPerTarget() {
    var cfg =
        AttributionFixture.config(
            AttributionMethod.GRADDOT,
            ProjectionKind.RADEMACHER,
            8,
            KernelMode.EXACT,
            HessianMode.CG,
            0);
    Map<String, Double> all = lr.pipelineScores(cfg, 3);
    Map<String, Double> top = lr.pipelineScores(cfg, 3, 3);
    assertEquals(5 * 3, top.size());
    for (int t = 0; t < 5; t++) {
      long target = 1_000_000L + t;
      List<Map.Entry<String, Double>> expected =
          all.entrySet().stream()
              .filter(e -> e.getKey().startsWith(target + "/"))
              .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
              .limit(3)
              .toList();
      for (Map.Entry<String, Double> e : expected) {
        assertEquals(
            e.getValue(),
            top.get(e.getKey()),
            0.0,
            "top-3 of target " + t + " holds " + e.getKey());
      }
    }
  }

  @Test
  void factoredProjectionWithFullWidthFactorsGivesTheUnprojectedScores() {
    var none =
        AttributionFixture.config(
            AttributionMethod.TRACIN, ProjectionKind.NONE, 0, KernelMode.EXACT, HessianMode.CG, 0);
    var factored =
        AttributionFixture.config(
            AttributionMethod.TRACIN,
            ProjectionKind.FACTORED,
            (int) mlpArch.paramCount(),
            KernelMode.EXACT,
            HessianMode.CG,
            0);
    Map<String, Double> a = mlp.pipelineScores(none, 2);
    Map<String, Double> b = mlp.pipelineScores(factored, 2);
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertRelClose(a.get(k), b.get(k), 1e-4, "factored " + k);
    }
  }
}
