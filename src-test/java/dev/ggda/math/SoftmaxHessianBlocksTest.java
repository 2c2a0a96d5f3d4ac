package dev.ggda.math;

import static dev.ggda.math.GaussNewtonFixtures.denseGaussNewton;
import static dev.ggda.math.GaussNewtonFixtures.randomBatch;
import static dev.ggda.math.GaussNewtonFixtures.randomNetwork;
import static dev.ggda.math.GaussNewtonFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ActivationKind;
import org.junit.jupiter.api.Test;

/** The class-pair blocks expand to the Hessian that the generic per-class Gram path computes. */
class SoftmaxHessianBlocksTest {
  @Test
  void expandedBlocksEqualTheGenericGaussNewtonSumOverSeveralBatches() {
    Architecture arch = Architecture.logistic(5, 4);
    Network net = randomNetwork(arch, 31, 0.9);
    GaussNewton.Batch first = randomBatch(7, 5, 4, 32);
    GaussNewton.Batch second = randomBatch(4, 5, 4, 33);
    SoftmaxHessianBlocks blocks = new SoftmaxHessianBlocks(5, 4);
    blocks.add(net, first.features(), first.labels());
    blocks.add(net, second.features(), second.labels());
    double[] h = SoftmaxHessianBlocks.expand(blocks.values(), 5, 4);
    double[] generic = denseGaussNewton(net, first, second);
    assertEquals(generic.length, h.length);
    double err = relativeError(h, generic);
    assertTrue(err < 1e-12, "relative error " + err);
  }

  @Test
  void partialBlocksAddUpLikeOneAccumulator() {
    Architecture arch = Architecture.logistic(3, 3);
    Network net = randomNetwork(arch, 41, 1.1);
    GaussNewton.Batch a = randomBatch(6, 3, 3, 42);
    GaussNewton.Batch b = randomBatch(5, 3, 3, 43);
    SoftmaxHessianBlocks one = new SoftmaxHessianBlocks(3, 3);
    one.add(net, a.features(), a.labels());
    one.add(net, b.features(), b.labels());
    SoftmaxHessianBlocks left = new SoftmaxHessianBlocks(3, 3);
    left.add(net, a.features(), a.labels());
    SoftmaxHessianBlocks right = new SoftmaxHessianBlocks(3, 3);
    right.add(net, b.features(), b.labels());
    double[] sum = left.values().clone();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += right.values()[i];
    }
    assertTrue(relativeError(sum, one.values()) < 1e-14);
  }

  @Test
  void refusesAModelWithAHiddenLayer() {
    Architecture mlp = new Architecture(3, new int[] {4}, 3, ActivationKind.TANH);
    GaussNewton.Batch batch = randomBatch(2, 3, 3, 1);
    SoftmaxHessianBlocks blocks = new SoftmaxHessianBlocks(3, 3);
    assertThrows(
        IllegalArgumentException.class,
        () -> blocks.add(randomNetwork(mlp, 1, 0.5), batch.features(), batch.labels()));
  }
}
