package dev.ggda.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.EvalMetric;
import dev.ggda.config.EvaluateConfig;
import dev.ggda.config.SeedMode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The LDS retraining protocol: in independent mode every subset and run trains with its own seed,
 * as TRAK and dattri retrain; in shared mode run s of every subset uses one seed (common random
 * numbers), the same seeds removal and leave-one-group-out pair across their strategies.
 */
class SeedModeTest {
  static EvaluateConfig config(SeedMode mode, int runs) {
    return new EvaluateConfig(
        List.of(EvalMetric.LDS), 4, 0.5, runs, mode, null, List.of(0.1), 2, 3, 7, null);
  }

  static int[][] subsets() {
    return new int[][] {{0, 1}, {1, 2}, {0, 2}, {2, 3}};
  }

  @Test
  void independentModeSeedsEverySubsetAndRunApart() {
    List<RetrainSpec> specs =
        EvaluationStage.subsetSpecs(
            config(SeedMode.INDEPENDENT, 3), "lds", EvaluationStage.LDS_STREAM, subsets());
    assertEquals(12, specs.size());
    Set<Long> seeds = new HashSet<>();
    for (int j = 0; j < 4; j++) {
      for (int s = 0; s < 3; s++) {
        RetrainSpec spec = specs.get(j * 3 + s);
        assertEquals("lds-j" + j + "-s" + s, spec.id());
        assertArrayEquals(subsets()[j], spec.rows());
        seeds.add(spec.seed());
      }
    }
    assertEquals(12, seeds.size(), "12 retrainings, 12 seeds: " + seeds);
    List<RetrainSpec> group =
        EvaluationStage.subsetSpecs(
            config(SeedMode.INDEPENDENT, 3), "glds-x", EvaluationStage.GROUP_LDS_STREAM, subsets());
    for (RetrainSpec g : group) {
      assertTrue(seeds.add(g.seed()), "group LDS draws its own seeds: " + g);
    }
    // Shared mode's seeds are the paired seeds of removal; independent ones stay clear of them.
    List<RetrainSpec> shared =
        EvaluationStage.subsetSpecs(
            config(SeedMode.SHARED, 3), "lds", EvaluationStage.LDS_STREAM, subsets());
    for (int s = 0; s < 3; s++) {
      assertTrue(
          seeds.add(shared.get(s).seed()), "paired seed " + s + " is not an independent one");
    }
  }

  @Test
  void sharedModeGivesRunSOfEverySubsetOneSeed() {
    List<RetrainSpec> specs =
        EvaluationStage.subsetSpecs(
            config(SeedMode.SHARED, 2), "lds", EvaluationStage.LDS_STREAM, subsets());
    assertEquals(8, specs.size());
    for (int j = 1; j < 4; j++) {
      assertEquals(specs.get(0).seed(), specs.get(j * 2).seed(), "run 0 of subset " + j);
      assertEquals(specs.get(1).seed(), specs.get(j * 2 + 1).seed(), "run 1 of subset " + j);
    }
    assertNotEquals(specs.get(0).seed(), specs.get(1).seed(), "runs of one subset differ");
  }

  @Test
  void seedsDependOnEvaluateSeedAndStreamOnly() {
    EvaluateConfig a = config(SeedMode.INDEPENDENT, 1);
    EvaluateConfig b =
        new EvaluateConfig(
            List.of(EvalMetric.LDS),
            4,
            0.5,
            1,
            SeedMode.INDEPENDENT,
            null,
            List.of(0.1),
            2,
            3,
            8,
            null);
    List<RetrainSpec> x =
        EvaluationStage.subsetSpecs(a, "lds", EvaluationStage.LDS_STREAM, subsets());
    List<RetrainSpec> y =
        EvaluationStage.subsetSpecs(a, "lds", EvaluationStage.LDS_STREAM, subsets());
    List<RetrainSpec> z =
        EvaluationStage.subsetSpecs(b, "lds", EvaluationStage.LDS_STREAM, subsets());
    for (int i = 0; i < x.size(); i++) {
      assertEquals(x.get(i).seed(), y.get(i).seed(), "a rerun retrains with the same seeds");
      assertNotEquals(x.get(i).seed(), z.get(i).seed(), "evaluate.seed changes them");
    }
  }
}
