package dev.ggda.grouping;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Stored k-means centres and the nearest-centre rule that assigns an example to one of them: the
 * nearest coarse centre first, then the nearest of its fine centres (two-level k-means), or the
 * nearest of all centres (one level). Squared Euclidean distance; a tie goes to the lower index. A
 * plain class of arrays, so Kryo can broadcast it.
 */
final class Centres implements Serializable {
  private static final long serialVersionUID = 1L;

  private double[][] coarse;
  private double[][] fine;
  private int[] parent;
  private int[][] children;

  private Centres() {}

  /**
   * @param coarse the coarse centres; empty for one-level k-means
   * @param fine the group centres
   * @param parent each group centre's coarse centre (ignored when {@code coarse} is empty)
   */
  static Centres of(double[][] coarse, double[][] fine, int[] parent) {
    Centres c = new Centres();
    c.coarse = coarse;
    c.fine = fine;
    c.parent = parent;
    List<List<Integer>> kids = new ArrayList<>();
    for (int j = 0; j < coarse.length; j++) {
      kids.add(new ArrayList<>());
    }
    for (int i = 0; i < fine.length && coarse.length > 0; i++) {
      kids.get(parent[i]).add(i);
    }
    c.children = new int[coarse.length][];
    for (int j = 0; j < coarse.length; j++) {
      c.children[j] = kids.get(j).stream().mapToInt(Integer::intValue).toArray();
    }
    return c;
  }

  int groups() {
    return fine.length;
  }

  int coarseCount() {
    return coarse.length;
  }

  double[] fine(int i) {
    return fine[i];
  }

  double[] coarse(int j) {
    return coarse[j];
  }

  int parent(int i) {
    return parent[i];
  }

  /** The index of the group centre x belongs to. */
  int nearest(double[] x) {
    if (coarse.length == 0) {
      return nearestOf(fine, null, x);
    }
    int[] kids = children[nearestOf(coarse, null, x)];
    // A coarse centre left without groups: fall back to all of them rather than fail.
    return kids.length == 0 ? nearestOf(fine, null, x) : nearestOf(fine, kids, x);
  }

  private static int nearestOf(double[][] centres, int[] among, double[] x) {
    int best = -1;
    double bestD = Double.POSITIVE_INFINITY;
    int n = among == null ? centres.length : among.length;
    for (int t = 0; t < n; t++) {
      int i = among == null ? t : among[t];
      double d = 0;
      double[] c = centres[i];
      for (int f = 0; f < x.length; f++) {
        double diff = x[f] - c[f];
        d += diff * diff;
      }
      if (d < bestD || best < 0) {
        best = i;
        bestD = d;
      }
    }
    return best;
  }
}
