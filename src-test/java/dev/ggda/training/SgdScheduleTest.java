package dev.ggda.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.LrSchedule;
import org.junit.jupiter.api.Test;

class SgdScheduleTest {
  @Test
  void checkpointsAreEvenlySpacedAndEndAtTheLastStep() {
    SgdSchedule s = SgdSchedule.of(100, 0.1, LrSchedule.CONSTANT, 4);
    assertArrayEquals(new long[] {25, 50, 75, 100}, s.checkpointSteps());
    assertEquals(0.1, s.checkpointRate(3), 0);
  }

  @Test
  void linearCheckpointRateIsTheMeanRateOfItsInterval() {
    long total = 10;
    SgdSchedule s = SgdSchedule.of(total, 0.5, LrSchedule.LINEAR, 2);
    // Brute force: mean of lr0 * (1 - step/total) over the steps of each interval.
    double first = 0;
    for (int step = 0; step < 5; step++) {
      first += 0.5 * (1 - step / 10.0);
    }
    double second = 0;
    for (int step = 5; step < 10; step++) {
      second += 0.5 * (1 - step / 10.0);
    }
    assertEquals(first / 5, s.checkpointRate(0), 1e-15);
    assertEquals(second / 5, s.checkpointRate(1), 1e-15);
    assertEquals(0.5 * (1 - 3 / 10.0), s.rateAt(3), 1e-15);
  }

  @Test
  void moreCheckpointsThanStepsAreCappedAtOnePerStep() {
    SgdSchedule s = SgdSchedule.of(3, 0.1, LrSchedule.CONSTANT, 10);
    assertArrayEquals(new long[] {1, 2, 3}, s.checkpointSteps());
  }
}
