package dev.ggda.attribution;

import dev.ggda.featurize.BlockFeatures;
import dev.ggda.math.Flat;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Scores one block of groups against all targets: one (m x k)(k x T) product per slot. */
final class BlockScorer {
  private BlockScorer() {}

  /** Scores (m x T, row-major, double) and self-influence (m) of a block. */
  static double[][] score(BlockFeatures b, ScoreOperator op) {
    int m = b.groups();
    int t = op.targets();
    INDArray scores = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, m, t);
    INDArray self = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, m, 1);
    INDArray sq = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, m, 1);
    for (int s = 0; s < op.slots(); s++) {
      INDArray f = Flat.matrix(b.loss[s], m, op.k);
      INDArray v = op.vMatrix(s);
      scores.addi(f.mmul(v).castTo(scores.dataType()));
      if (!op.cosine && !op.selfInfluence) {
        continue;
      }
      INDArray fd = f.castTo(scores.dataType());
      if (op.cosine) {
        sq.addi(fd.mul(fd).sum(1).reshape(-1, 1));
      }
      if (op.selfInfluence) {
        // F M in float32, like the scores: in float64 this m x k x k product cost several times the
        // scores themselves (k x k against T targets). Only the row-wise dot runs in float64.
        INDArray left = op.selfLeftMargin ? chi(b, s, fd) : fd;
        INDArray metric = op.selfMatrix(s);
        INDArray right = metric == null ? fd : f.mmul(metric).castTo(fd.dataType());
        self.addi(left.mul(right).sum(1).reshape(-1, 1).muli(op.selfWeight[s]));
      }
    }
    if (op.cosine) {
      INDArray norm = Transforms.sqrt(sq, true);
      scores.diviColumnVector(Transforms.max(norm, 1e-30, false));
      self.assign(1.0);
    }
    return new double[][] {Flat.doubles(scores), Flat.doubles(self)};
  }

  /**
   * TRAK's chi_G (summed margin gradients) of slot s: featurized, or with the group kernel
   * estimated as -(|G| / sum_G Q) times the loss row, exact for one member (psi_i = Q_i phi_i).
   */
  private static INDArray chi(BlockFeatures b, int s, INDArray lossRows) {
    if (b.margin != null) {
      return Flat.matrix(b.margin[s], b.groups(), lossRows.columns()).castTo(lossRows.dataType());
    }
    double[] scale = new double[b.groups()];
    for (int j = 0; j < scale.length; j++) {
      float q = b.qSums[s][j];
      scale[j] = q > 0 ? -b.sizes[j] / (double) q : 0;
    }
    return lossRows.mulColumnVector(Nd4j.create(scale).reshape(-1, 1));
  }
}
