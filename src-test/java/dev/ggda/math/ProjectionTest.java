package dev.ggda.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.config.ProjectionKind;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ProjectionTest {
  /** Two blocks, the second partial: exercises the block boundary. */
  private static final int P = 1000;

  private static final int K = 512;

  /**
   * The element-wise form a GPU evaluates gives every entry the block generator gives, bit for bit:
   * both blocks (the second partial), odd and even widths (Gaussian pairs straddle rows), and an
   * independent restatement of SplittableRandom's stream for one entry.
   */
  @ParameterizedTest
  @EnumSource(
      value = ProjectionKind.class,
      names = {"RADEMACHER", "GAUSSIAN", "NONE"})
  void everyEntryOnItsOwnEqualsItsBlock(ProjectionKind kind) {
    for (int k : new int[] {K, 37}) {
      Projection proj = new Projection(kind, P, k, 9, 2, 1);
      for (int b = 0; b < proj.blocks(); b++) {
        float[] block = proj.blockValues(b);
        int rows = block.length / proj.dim();
        for (int r = 0; r < rows; r++) {
          for (int c = 0; c < proj.dim(); c++) {
            long row = (long) b * Projection.BLOCK_ROWS + r;
            float e = proj.entry(row, c);
            if (Float.floatToRawIntBits(e) != Float.floatToRawIntBits(block[r * proj.dim() + c])) {
              throw new AssertionError(
                  kind
                      + " k="
                      + k
                      + " entry ("
                      + row
                      + ", "
                      + c
                      + "): "
                      + e
                      + " vs block "
                      + block[r * proj.dim() + c]);
            }
          }
        }
      }
    }
    if (kind == ProjectionKind.RADEMACHER) {
      // Entry (512, 70), the first row of block 1: element 70 of the block is bit 6 of its 2nd
      // long.
      Projection proj = new Projection(kind, P, K, 9, 2, 1);
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(Seeds.mix(proj.key(), 1));
      rnd.nextLong();
      long second = rnd.nextLong();
      float expected = ((second >>> 6) & 1) == 0 ? proj.rademacherScale() : -proj.rademacherScale();
      assertEquals(expected, proj.entry(Projection.BLOCK_ROWS, 70), 0f);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = ProjectionKind.class,
      names = {"RADEMACHER", "GAUSSIAN"})
  void squaredNormsArePreservedWithinJohnsonLindenstraussBounds(ProjectionKind kind) {
    Projection proj = new Projection(kind, P, K, 3, 0, 0);
    INDArray g = GaussNewtonFixtures.toArray(GaussNewtonFixtures.randomMatrix(50, P, 200));
    INDArray gp = proj.project(g);
    double[] before = g.mul(g).sum(1).toDoubleVector();
    double[] after = gp.mul(gp).sum(1).toDoubleVector();
    double mean = 0;
    for (int i = 0; i < before.length; i++) {
      double ratio = after[i] / before[i];
      // Var(ratio) = 2/k for both kinds (about 0.0625^2 at k = 512): 0.25 is 4 standard deviations.
      assertTrue(Math.abs(ratio - 1) < 0.25, kind + " vector " + i + ": norm ratio " + ratio);
      mean += ratio / before.length;
    }
    assertEquals(1.0, mean, 0.03, kind + ": mean norm ratio");
  }

  @ParameterizedTest
  @EnumSource(
      value = ProjectionKind.class,
      names = {"RADEMACHER", "GAUSSIAN"})
  void innerProductsArePreservedWithinJohnsonLindenstraussBounds(ProjectionKind kind) {
    Projection proj = new Projection(kind, P, K, 4, 1, 2);
    double[][] a = GaussNewtonFixtures.randomMatrix(50, P, 210);
    double[][] noise = GaussNewtonFixtures.randomMatrix(50, P, 211);
    // Pairs with cosine about 0.8, so the inner products are far from zero.
    double[][] b = new double[50][P];
    for (int i = 0; i < 50; i++) {
      for (int j = 0; j < P; j++) {
        b[i][j] = 0.8 * a[i][j] + 0.6 * noise[i][j];
      }
    }
    INDArray ga = GaussNewtonFixtures.toArray(a);
    INDArray gb = GaussNewtonFixtures.toArray(b);
    double[] exact = ga.mul(gb).sum(1).toDoubleVector();
    double[] projected = proj.project(ga).mul(proj.project(gb)).sum(1).toDoubleVector();
    double[] na = ga.norm2(1).toDoubleVector();
    double[] nb = gb.norm2(1).toDoubleVector();
    double meanRatio = 0;
    for (int i = 0; i < 50; i++) {
      double err = Math.abs(projected[i] - exact[i]) / (na[i] * nb[i]);
      assertTrue(
          err < 0.25,
          kind + " pair " + i + ": inner-product error " + err + " of the norm product");
      meanRatio += projected[i] / exact[i] / 50;
    }
    assertEquals(1.0, meanRatio, 0.03, kind + ": mean inner-product ratio");
  }

  @ParameterizedTest
  @EnumSource(
      value = ProjectionKind.class,
      names = {"RADEMACHER", "GAUSSIAN"})
  void blocksRegeneratedByIndependentInstancesAreBitIdentical(ProjectionKind kind)
      throws Exception {
    Projection driver = new Projection(kind, P, K, 7, 2, 3);
    // The other "executor": a separate instance built in another thread.
    AtomicReference<float[][]> remote = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              Projection executor = new Projection(kind, P, K, 7, 2, 3);
              float[][] blocks = new float[executor.blocks()][];
              for (int b = blocks.length - 1; b >= 0; b--) {
                blocks[b] = executor.block(b).reshape(-1).toFloatVector();
              }
              remote.set(blocks);
            });
    t.start();
    t.join();
    assertEquals(2, driver.blocks());
    for (int b = 0; b < driver.blocks(); b++) {
      assertArrayEquals(
          driver.block(b).reshape(-1).toFloatVector(), remote.get()[b], 0f, "block " + b);
    }
    // Every part of the key matters.
    float[] first = driver.block(0).reshape(-1).toFloatVector();
    for (Projection other :
        new Projection[] {
          new Projection(kind, P, K, 8, 2, 3),
          new Projection(kind, P, K, 7, 3, 3),
          new Projection(kind, P, K, 7, 2, 4)
        }) {
      assertFalse(Arrays.equals(first, other.block(0).reshape(-1).toFloatVector()));
    }
    // ...the block index included: the (partial) second block is not a prefix of the first.
    float[] second = driver.block(1).reshape(-1).toFloatVector();
    assertFalse(Arrays.equals(Arrays.copyOf(first, second.length), second));
  }

  @ParameterizedTest
  @EnumSource(
      value = ProjectionKind.class,
      names = {"RADEMACHER", "GAUSSIAN"})
  void projectEqualsMultiplyingByTheDenseMatrixBuiltFromAllBlocks(ProjectionKind kind) {
    Projection proj = new Projection(kind, P, K, 9, 0, 1);
    INDArray dense = Nd4j.vstack(blocks(proj)).castTo(DataType.DOUBLE);
    assertArrayEquals(new long[] {P, K}, dense.shape());
    INDArray g = GaussNewtonFixtures.toArray(GaussNewtonFixtures.randomMatrix(3, P, 220));
    double err =
        GaussNewtonFixtures.relativeError(
            GaussNewtonFixtures.flatten(proj.project(g).toDoubleMatrix()),
            GaussNewtonFixtures.flatten(g.mmul(dense).toDoubleMatrix()));
    assertTrue(err < 1e-12, "float64 relative error " + err);

    INDArray gf = g.castTo(DataType.FLOAT);
    INDArray pf = proj.project(gf);
    assertEquals(DataType.FLOAT, pf.dataType());
    double errF =
        GaussNewtonFixtures.relativeError(
            GaussNewtonFixtures.flatten(pf.castTo(DataType.DOUBLE).toDoubleMatrix()),
            GaussNewtonFixtures.flatten(g.mmul(dense).toDoubleMatrix()));
    assertTrue(errF < 1e-5, "float32 relative error " + errF);
  }

  @Test
  void entriesHaveTheDocumentedDistributions() {
    double s = 1 / Math.sqrt(K);
    float[] rad =
        Nd4j.vstack(blocks(new Projection(ProjectionKind.RADEMACHER, P, K, 1, 0, 0)))
            .reshape(-1)
            .toFloatVector();
    long plus = 0;
    for (float v : rad) {
      assertTrue(v == (float) s || v == (float) -s, "rademacher entry " + v);
      plus += v > 0 ? 1 : 0;
    }
    // Fair signs: within 4 standard deviations of half.
    assertEquals(rad.length / 2.0, plus, 4 * Math.sqrt(rad.length / 4.0));

    float[] gauss =
        Nd4j.vstack(blocks(new Projection(ProjectionKind.GAUSSIAN, P, K, 1, 0, 0)))
            .reshape(-1)
            .toFloatVector();
    double mean = 0;
    double var = 0;
    for (float v : gauss) {
      mean += v / (double) gauss.length;
      var += v * (double) v / gauss.length;
    }
    assertEquals(0.0, mean / s, 4 / Math.sqrt(gauss.length));
    assertEquals(1.0, var * K, 0.01);
  }

  @Test
  void noneIsTheIdentity() {
    Projection none = new Projection(ProjectionKind.NONE, P, 0, 1, 0, 0);
    assertEquals(P, none.dim());
    INDArray dense = Nd4j.vstack(blocks(none));
    assertEquals(Nd4j.eye(P).castTo(DataType.FLOAT), dense);
    INDArray g = GaussNewtonFixtures.toArray(GaussNewtonFixtures.randomMatrix(3, P, 230));
    INDArray projected = none.project(g);
    assertEquals(g, projected);
    // A copy, not the caller's array.
    projected.putScalar(0, 0, 42.0);
    assertFalse(g.getDouble(0, 0) == 42.0);
  }

  private static INDArray[] blocks(Projection proj) {
    INDArray[] out = new INDArray[proj.blocks()];
    for (int b = 0; b < out.length; b++) {
      out[b] = proj.block(b);
    }
    return out;
  }

  /**
   * Two threads projecting with different P under a cache that holds one: each evicts the P the
   * other is multiplying with, while a third thread forces full GCs (ND4J then frees every
   * unreachable native buffer). Every product must still equal the blockwise one.
   */
  @Test
  void aPEvictedWhileInUseStaysValidForItsProduct() throws Exception {
    int rows = 4000;
    Projection[] proj = {
      new Projection(ProjectionKind.RADEMACHER, rows, K, 5, 0, 0),
      new Projection(ProjectionKind.RADEMACHER, rows, K, 5, 1, 0)
    };
    INDArray g =
        GaussNewtonFixtures.toArray(GaussNewtonFixtures.randomMatrix(64, rows, 7))
            .castTo(DataType.FLOAT);
    String key = "ggda.projection.cache.mb";
    String before = System.getProperty(key);
    try {
      System.setProperty(key, "0");
      double[][] expected = {
        Flat.doubles(proj[0].project(g).castTo(DataType.DOUBLE)),
        Flat.doubles(proj[1].project(g).castTo(DataType.DOUBLE))
      };
      System.setProperty(key, String.valueOf((rows * (long) K * 4 >> 20) + 1));
      long evicted = Projection.evictions();
      AtomicReference<String> failure = new AtomicReference<>();
      Thread gc =
          new Thread(
              () -> {
                try {
                  while (!Thread.currentThread().isInterrupted()) {
                    System.gc();
                    Thread.sleep(5);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      gc.start();
      Thread[] workers = new Thread[2];
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
      for (int w = 0; w < 2; w++) {
        int which = w;
        workers[w] =
            new Thread(
                () -> {
                  try {
                    start.await();
                  } catch (Exception e) {
                    failure.set("start: " + e);
                  }
                  for (int i = 0; i < 15 && failure.get() == null; i++) {
                    double[] got =
                        Flat.doubles(proj[which].project(g.dup()).castTo(DataType.DOUBLE));
                    for (int j = 0; j < got.length; j++) {
                      if (Math.abs(got[j] - expected[which][j])
                          > 1e-4 * (1 + Math.abs(expected[which][j]))) {
                        failure.set(
                            "P "
                                + which
                                + ", product "
                                + i
                                + ", entry "
                                + j
                                + ": "
                                + got[j]
                                + " vs "
                                + expected[which][j]);
                        return;
                      }
                    }
                  }
                });
        workers[w].start();
      }
      for (Thread t : workers) {
        t.join();
      }
      gc.interrupt();
      gc.join();
      assertEquals(null, failure.get());
      assertTrue(
          Projection.evictions() - evicted >= 2,
          "the two P evicted each other: " + (Projection.evictions() - evicted));
    } finally {
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
    }
  }
}
