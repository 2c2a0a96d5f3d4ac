package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ggda.config.PruneRankBy;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PruneValidationTest {
  @Test
  void runsDropWhatThePlanDropsAndRandomDropsAsMany() {
    long[] ids = new long[100];
    long[] groupOf = new long[100];
    for (int i = 0; i < 100; i++) {
      ids[i] = 10 + 2L * i;
      groupOf[i] = i / 10; // ten groups of ten
    }
    // Group g has per-example value g - 5: groups 0, 1 are the lowest.
    List<GroupValue> values = new java.util.ArrayList<>();
    for (int g = 0; g < 10; g++) {
      values.add(new GroupValue(g, 10, 10.0 * (g - 5), g - 5));
    }
    List<PruneValidation.Trial> runs =
        PruneValidation.runs(
            ids,
            groupOf,
            values,
            PruneRankBy.VALUE_PER_EXAMPLE,
            List.of(0.2, 0.5),
            2,
            7,
            PruneValidation.Baselines.none());
    assertEquals(2 + 2 * 2 * 2, runs.size());
    for (PruneValidation.Trial r : runs) {
      switch (r.strategy()) {
        case PruneValidation.FULL -> assertEquals(100, r.rows().length);
        case PruneValidation.ATTRIBUTION -> {
          int keep = (int) Math.round(100 * (1 - r.fraction()));
          assertEquals(keep, r.rows().length);
          // exactly the rows of the groups above the cut
          assertEquals(100 - keep, r.rows()[0]);
        }
        default -> assertEquals(Math.round(100 * (1 - r.fraction())), r.rows().length);
      }
      assertEquals(7 + r.seedIndex(), r.trainSeed());
    }
    int[] a =
        runs.stream()
            .filter(r -> r.strategy().equals("random") && r.seedIndex() == 0 && r.fraction() == 0.2)
            .findFirst()
            .orElseThrow()
            .rows();
    int[] b =
        runs.stream()
            .filter(r -> r.strategy().equals("random") && r.seedIndex() == 1 && r.fraction() == 0.2)
            .findFirst()
            .orElseThrow()
            .rows();
    assertNotEquals(Arrays.toString(a), Arrays.toString(b), "seeds prune differently");
  }

  @Test
  void summaryIsMeanAndSampleStd() {
    List<PruneValidation.Trial> runs =
        List.of(
            new PruneValidation.Trial("full", 0.0, 0, 0, new int[0], 0),
            new PruneValidation.Trial("full", 0.0, 1, 1, new int[0], 0),
            new PruneValidation.Trial("attribution", 0.3, 0, 0, new int[0], 0),
            new PruneValidation.Trial("attribution", 0.3, 1, 1, new int[0], 0),
            new PruneValidation.Trial("random", 0.3, 0, 0, new int[0], 0),
            new PruneValidation.Trial("random", 0.3, 1, 1, new int[0], 0));
    List<PruneValidation.Point> points =
        PruneValidation.summarise(runs, new double[] {0.8, 0.9, 0.7, 0.7, 0.5, 0.6}, List.of(0.3));
    assertEquals(3, points.size());
    assertEquals(0.85, points.get(0).accuracyMean(), 1e-12);
    assertEquals(Math.sqrt(2 * 0.05 * 0.05), points.get(0).accuracyStd(), 1e-12);
    assertEquals(0.7, points.get(1).accuracyMean(), 1e-12);
    assertEquals(0.0, points.get(1).accuracyStd(), 1e-12);
    assertEquals("random", points.get(2).strategy());
    assertEquals(0.55, points.get(2).accuracyMean(), 1e-12);
  }

  @Test
  void baselinesDropTheirFirstRowsAsManyAsAttributionAndTheOracleDropsTheFlips() {
    long[] ids = new long[40];
    long[] groupOf = new long[40];
    for (int i = 0; i < 40; i++) {
      ids[i] = i;
      groupOf[i] = i / 4; // ten groups of four
    }
    List<GroupValue> values = new java.util.ArrayList<>();
    for (int g = 0; g < 10; g++) {
      values.add(new GroupValue(g, 4, 4.0 * g, g));
    }
    int[] lossOrder = new int[40];
    for (int i = 0; i < 40; i++) {
      lossOrder[i] = 39 - i; // the last rows are the most suspicious
    }
    int[] flips = {3, 17, 25};
    PruneValidation.Baselines b =
        new PruneValidation.Baselines(java.util.Map.of("loss", lossOrder), flips);
    List<PruneValidation.Trial> runs =
        PruneValidation.runs(
            ids, groupOf, values, PruneRankBy.VALUE_PER_EXAMPLE, List.of(0.2), 2, 0, b);
    // per seed: full, oracle; per fraction and seed: attribution, random, loss
    assertEquals(2 * 2 + 2 * 3, runs.size());
    for (PruneValidation.Trial r : runs) {
      switch (r.strategy()) {
        case "loss" -> {
          assertEquals(32, r.rows().length);
          assertEquals(31, r.rows()[r.rows().length - 1]); // rows 32..39 dropped
          assertEquals(8, r.dropped());
        }
        case PruneValidation.ORACLE -> {
          assertEquals(37, r.rows().length);
          assertEquals(
              0, Arrays.stream(r.rows()).filter(x -> x == 3 || x == 17 || x == 25).count());
        }
        default -> {}
      }
    }
    double[] acc = new double[runs.size()];
    for (int i = 0; i < acc.length; i++) {
      acc[i] = runs.get(i).strategy().equals(PruneValidation.ORACLE) ? 0.9 : 0.5;
    }
    List<PruneValidation.Point> points = PruneValidation.summarise(runs, acc, List.of(0.2));
    // every strategy at the fraction; the oracle's fraction-free runs are its reference line
    assertEquals(5, points.size());
    assertEquals(
        0.9,
        points.stream()
            .filter(p -> p.fraction() == 0.2 && p.strategy().equals(PruneValidation.ORACLE))
            .findFirst()
            .orElseThrow()
            .accuracyMean(),
        1e-12);
  }
}
