package dev.ggda.training;

/**
 * Training examples held in memory, row-major: example r has features x[r*dim .. r*dim+dim) and
 * label y[r]. Rows are in example-id order so that seeded shuffles give the same run everywhere.
 */
public record TrainingData(float[] x, int[] y, int dim) {
  public TrainingData {
    if (x.length != (long) y.length * dim) {
      throw new IllegalArgumentException(
          "features hold " + x.length + " values, expected " + y.length + " x " + dim);
    }
  }

  public int rows() {
    return y.length;
  }
}
