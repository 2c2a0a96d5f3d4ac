package dev.ggda.testing;

/** Plain float64 references the tests compare ND4J results against. */
public final class Reference {
  private Reference() {}

  /** log sum over c != skip of exp(z_c), max-shifted; skip -1 sums over every class. */
  public static double logSumExp(double[] z, int skip) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < z.length; c++) {
      if (c != skip) {
        max = Math.max(max, z[c]);
      }
    }
    double s = 0;
    for (int c = 0; c < z.length; c++) {
      if (c != skip) {
        s += Math.exp(z[c] - max);
      }
    }
    return max + Math.log(s);
  }
}
