package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.ProjectionKind;
import dev.ggda.harness.ReferenceFeaturizer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The benchmark's straightforward reference computes the same per-example features and kernel as
 * the pipeline.
 */
class ReferenceFeaturizerTest {
  @Test
  void referenceFeaturesAndKernelEqualTheBatchedPerExamplePath() {
    int n = 13;
    int[] singles = new int[n];
    java.util.Arrays.fill(singles, 1);
    Featurizer.Rows rows = FeaturizerTest.rows(singles, 4);
    Featurizer.Output ours =
        Featurizer.featurize(
            FeaturizerTest.ARCH,
            FeaturizerTest.slot(),
            FeaturizerTest.spec(Featurizer.Moment.EXAMPLES, 5),
            rows);
    Network net = Network.fromFloats(FeaturizerTest.ARCH, FeaturizerTest.slot().get(0).params());
    Projection proj =
        new Projection(ProjectionKind.RADEMACHER, FeaturizerTest.ARCH.paramCount(), 8, 5, 0, 0);
    INDArray kernel = Nd4j.zeros(DataType.DOUBLE, 8, 8);
    // A batch that does not divide n: the last batch is partial.
    INDArray phi =
        ReferenceFeaturizer.perExample(net, proj, Flat.matrix(rows.x(), n, 5), rows.y(), 4, kernel);
    float[] ref = Flat.floats(phi);
    double scale = 0;
    for (float v : ours.margin()[0]) {
      scale = Math.max(scale, Math.abs(v));
    }
    assertEquals(n * 8, ref.length);
    for (int i = 0; i < ref.length; i++) {
      assertEquals(ours.margin()[0][i], ref[i], 1e-5 * scale, "phi entry " + i);
    }
    double[] k = Flat.doubles(kernel);
    for (int i = 0; i < k.length; i++) {
      assertEquals(ours.kernel()[0][i], k[i], 1e-5 * scale * scale * n, "kernel entry " + i);
    }
  }
}
