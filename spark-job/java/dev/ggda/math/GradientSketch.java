package dev.ggda.math;

import dev.ggda.config.ProjectionKind;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How gradients become k-dimensional features. A dense sketch sums group gradients in parameter
 * space and projects once per block ({@link Projection}); a factored sketch projects each dense
 * layer's factors directly ({@link FactoredProjection}), never forming a p-dimensional gradient.
 */
public interface GradientSketch {
  /** k: the feature width. */
  int dim();

  /** Width of the rows {@link #groupRows} returns: p for a dense sketch, k for a factored one. */
  long rowWidth();

  /**
   * Per-group rows of a batch (group j = rows [starts[j], starts[j+1])), summed, at {@link
   * #rowWidth}.
   */
  INDArray groupRows(BatchGradient g, int[] starts);

  /**
   * Turns accumulated group rows into features (projects them, or nothing when already projected).
   */
  INDArray finish(INDArray rows);

  /**
   * Adds the summed row of batch group j (at {@link #rowWidth}) into row {@code rowOf[j]} of {@code
   * stacked} (row-major, float).
   */
  default void addGroupRows(BatchGradient g, int[] starts, INDArray stacked, int[] rowOf) {
    INDArray rows = groupRows(g, starts);
    for (int j = 0; j < rowOf.length; j++) {
      stacked.getRow(rowOf[j]).addi(rows.getRow(j));
    }
  }

  /** Features of every example of a batch (n x k): the batched per-example path. */
  INDArray perExample(BatchGradient g);

  static GradientSketch of(
      Architecture arch, ProjectionKind kind, int dim, long seed, int member, int checkpoint) {
    if (kind == ProjectionKind.FACTORED) {
      return new FactoredProjection(arch, dim, seed, member, checkpoint);
    }
    Projection p = new Projection(kind, arch.paramCount(), dim, seed, member, checkpoint);
    return new GradientSketch() {
      @Override
      public int dim() {
        return p.dim();
      }

      @Override
      public long rowWidth() {
        return arch.paramCount();
      }

      @Override
      public INDArray groupRows(BatchGradient g, int[] starts) {
        return GroupGradients.sums(arch, g, starts);
      }

      @Override
      public void addGroupRows(BatchGradient g, int[] starts, INDArray stacked, int[] rowOf) {
        GroupGradients.addSums(arch, g, starts, stacked, rowOf);
      }

      @Override
      public INDArray finish(INDArray rows) {
        return p.project(rows);
      }

      @Override
      public INDArray perExample(BatchGradient g) {
        return p.project(g.perExample(arch));
      }
    };
  }
}
