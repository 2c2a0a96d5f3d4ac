package dev.ggda.math;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Row-major copies of ND4J arrays of any rank: the float[]/double[] edge of the math core. */
public final class Flat {
  private Flat() {}

  public static float[] floats(INDArray a) {
    return a.dup('c').reshape(a.length()).toFloatVector();
  }

  public static double[] doubles(INDArray a) {
    return a.dup('c').reshape(a.length()).toDoubleVector();
  }
}
