package dev.ggda.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LabelFlipsTest {
  @Test
  void flipsAlwaysToAnotherClassAndCoverAllOthersEvenly() {
    int classes = 10;
    int[][] counts = new int[classes][classes];
    for (long id = 0; id < 50_000; id++) {
      int label = (int) (id % classes);
      int flipped = LabelFlips.flip(3, id, label, classes);
      assertNotEquals(label, flipped);
      assertTrue(flipped >= 0 && flipped < classes);
      counts[label][flipped]++;
    }
    // 5,000 per label spread over 9 other classes: about 556 each.
    for (int a = 0; a < classes; a++) {
      for (int b = 0; b < classes; b++) {
        if (a != b)
          assertTrue(Math.abs(counts[a][b] - 5000 / 9.0) < 120, a + "->" + b + ": " + counts[a][b]);
      }
    }
    for (long id = 0; id < 100; id++) {
      assertEquals(1, LabelFlips.flip(0, id, 0, 2)); // two classes: always the other one
    }
  }

  @Test
  void pairFlipsGoToTheNextClass() {
    for (long id = 0; id < 40; id++) {
      int label = (int) (id % 10);
      assertEquals(
          (label + 1) % 10, LabelFlips.flip(dev.ggda.config.FlipKind.PAIR, 7, id, label, 10));
      assertEquals(
          LabelFlips.flip(7, id, label, 10),
          LabelFlips.flip(dev.ggda.config.FlipKind.UNIFORM, 7, id, label, 10));
    }
  }

  @Test
  void countIsTheRoundedFractionAtLeastOne() {
    assertEquals(100, LabelFlips.count(1000, 0.1));
    assertEquals(1, LabelFlips.count(3, 0.1));
    assertEquals(6000, LabelFlips.count(60_000, 0.1));
    assertEquals(3, LabelFlips.count(5, 0.5)); // round half up
  }
}
