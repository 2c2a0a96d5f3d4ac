package dev.ggda.math;

import dev.ggda.config.ProjectionKind;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A random projection P (p x k) that is never stored or shipped: any block of rows of P is
 * regenerated from a generator keyed by (seed, member, checkpoint, block), so every executor,
 * partitioning and task retry sees the same P (DESIGN.md section 4).
 *
 * <ul>
 *   <li>{@code RADEMACHER}: entries +-1/sqrt(k), 64 signs from each random long;
 *   <li>{@code GAUSSIAN}: entries N(0, 1/k) by Box-Muller from the block's stream (specified
 *       arithmetic, so identical on every JVM);
 *   <li>{@code NONE}: the identity, k = p.
 * </ul>
 *
 * E[P P^T] = I for both random kinds, so inner products are preserved in expectation
 * (Johnson-Lindenstrauss).
 */
public final class Projection {
  /** Rows of P generated at once; also the unit of the key, so it must never change. */
  public static final int BLOCK_ROWS = 512;

  private final ProjectionKind kind;
  private final long rows;
  private final int dim;
  private final long key;

  /**
   * @param rows p, the length of the vectors projected
   * @param dim k (ignored for NONE, where k = p)
   */
  public Projection(
      ProjectionKind kind, long rows, int dim, long seed, int member, int checkpoint) {
    if (kind == ProjectionKind.FACTORED) {
      throw new IllegalArgumentException("the factored projection is FactoredProjection");
    }
    this.kind = kind;
    this.rows = rows;
    this.dim = kind == ProjectionKind.NONE ? Math.toIntExact(rows) : dim;
    this.key = Seeds.mix(Seeds.mix(Seeds.mix(seed, 0x5EEDL), member), checkpoint);
  }

  public int dim() {
    return dim;
  }

  public long rows() {
    return rows;
  }

  public ProjectionKind kind() {
    return kind;
  }

  /**
   * The generator key: block b of P is drawn from a SplittableRandom seeded with Seeds.mix(key, b).
   */
  public long key() {
    return key;
  }

  /** The magnitude of a RADEMACHER entry, 1/sqrt(k) rounded to float. */
  public float rademacherScale() {
    return (float) (1.0 / Math.sqrt(dim));
  }

  /**
   * Entry (row, col) of P on its own, the value {@link #block} holds there. The i-th long of a
   * SplittableRandom seeded with z is Seeds.mix(z, i) (its state advances by the golden gamma, the
   * output is the same finaliser), so any entry follows from its block and position: the form a GPU
   * kernel evaluates element by element.
   */
  public float entry(long row, int col) {
    long b = row / BLOCK_ROWS;
    long e = (row - b * BLOCK_ROWS) * dim + col;
    long stream = Seeds.mix(key, b);
    return switch (kind) {
      case RADEMACHER ->
          (Seeds.mix(stream, e >>> 6) >>> (e & 63) & 1) == 0
              ? rademacherScale()
              : -rademacherScale();
      case GAUSSIAN -> {
        long pair = e >>> 1;
        double u1 = 1.0 - (Seeds.mix(stream, 2 * pair) >>> 11) * 0x1.0p-53;
        double u2 = (Seeds.mix(stream, 2 * pair + 1) >>> 11) * 0x1.0p-53;
        double r = Math.sqrt(-2.0 * Math.log(u1)) * (1.0 / Math.sqrt(dim));
        yield (float)
            (r * ((e & 1) == 0 ? Math.cos(2 * Math.PI * u2) : Math.sin(2 * Math.PI * u2)));
      }
      case NONE -> row == col ? 1f : 0f;
      case FACTORED -> throw new IllegalStateException("unreachable");
    };
  }

  /**
   * Budget for cached projection matrices per JVM (executor), in MB: system property {@code
   * ggda.projection.cache.mb}, default 1024. A P above the budget is regenerated blockwise.
   */
  static long cacheBudgetBytes() {
    return Long.getLong("ggda.projection.cache.mb", 1024L) << 20;
  }

  private static final java.util.Map<String, INDArray> CACHE = new java.util.LinkedHashMap<>();
  private static long cachedBytes;
  private static long evictions;

  /**
   * How many cached P this JVM has evicted to make room for another (the stress run reports it).
   */
  public static long evictions() {
    synchronized (CACHE) {
      return evictions;
    }
  }

  /** The whole P (p x k, float), generated once per JVM, or null when it exceeds the budget. */
  INDArray cachedMatrix() {
    long bytes = rows * (long) dim * 4;
    long budget = cacheBudgetBytes();
    if (bytes > budget) {
      return null;
    }
    String key = kind + "/" + rows + "/" + dim + "/" + this.key;
    synchronized (CACHE) {
      INDArray hit = CACHE.get(key);
      if (hit != null) {
        return hit;
      }
      while (cachedBytes + bytes > budget && !CACHE.isEmpty()) {
        var eldest = CACHE.entrySet().iterator().next();
        cachedBytes -= eldest.getValue().length() * 4;
        CACHE.remove(eldest.getKey());
        evictions++;
      }
      INDArray p = Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, dim}, 'c');
      java.nio.FloatBuffer storage = Flat.floatView(p);
      // Blocks are independent streams: generate them on all cores (once per JVM).
      java.util.stream.IntStream.range(0, blocks())
          .parallel()
          .forEach(
              b -> {
                float[] v = blockValues(b);
                storage.duplicate().position(b * BLOCK_ROWS * dim).put(v);
              });
      java.lang.ref.Reference.reachabilityFence(p);
      CACHE.put(key, p);
      cachedBytes += bytes;
      return p;
    }
  }

  public int blocks() {
    return (int) ((rows + BLOCK_ROWS - 1) / BLOCK_ROWS);
  }

  /** Rows [b * BLOCK_ROWS, ...) of P as a (rowsInBlock x k) float matrix. */
  public INDArray block(int b) {
    float[] v = blockValues(b);
    return Flat.matrix(v, v.length / dim, dim);
  }

  /** The entries of {@link #block}, row-major. */
  float[] blockValues(int b) {
    long r0 = (long) b * BLOCK_ROWS;
    int n = (int) Math.min(BLOCK_ROWS, rows - r0);
    float[] v = new float[n * dim];
    SplittableRandom rnd = new SplittableRandom(Seeds.mix(key, b));
    switch (kind) {
      case RADEMACHER -> {
        // Bit j of each random long is the sign of one entry: OR it into the float's sign bit
        // (branch-free; the same values as choosing s or -s).
        int sBits = Float.floatToRawIntBits((float) (1.0 / Math.sqrt(dim)));
        for (int i = 0; i < v.length; i += 64) {
          long bits = rnd.nextLong();
          int end = Math.min(v.length, i + 64);
          for (int j = i; j < end; j++, bits >>>= 1) {
            v[j] = Float.intBitsToFloat(sBits | ((int) bits << 31));
          }
        }
      }
      case GAUSSIAN -> {
        double s = 1.0 / Math.sqrt(dim);
        for (int i = 0; i < v.length; i += 2) {
          double u1 = 1.0 - rnd.nextDouble();
          double u2 = rnd.nextDouble();
          double r = Math.sqrt(-2.0 * Math.log(u1)) * s;
          v[i] = (float) (r * Math.cos(2 * Math.PI * u2));
          if (i + 1 < v.length) {
            v[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
          }
        }
      }
      case FACTORED -> throw new IllegalStateException("unreachable");
      case NONE -> {
        for (int i = 0; i < n; i++) {
          v[i * dim + (int) (r0 + i)] = 1f;
        }
      }
    }
    return v;
  }

  /**
   * Projects the rows of {@code g} (m x p): returns g P (m x k). When P fits the per-JVM cache
   * budget it is generated once per JVM and reused (one GEMM); otherwise it is accumulated block by
   * block so P is never held whole. The result has g's data type.
   */
  public INDArray project(INDArray g) {
    if (g.columns() != rows) {
      throw new IllegalArgumentException(
          "vectors have " + g.columns() + " entries, projection expects " + rows);
    }
    if (kind == ProjectionKind.NONE) {
      return g.dup();
    }
    INDArray whole = cachedMatrix();
    if (whole != null) {
      INDArray out = g.mmul(g.dataType() == whole.dataType() ? whole : whole.castTo(g.dataType()));
      // Another task may evict P from the cache while this product runs; this reference, not the
      // cache, is what keeps P's native buffer from being freed under the GEMM.
      java.lang.ref.Reference.reachabilityFence(whole);
      return out;
    }
    INDArray out = Nd4j.zeros(g.dataType(), g.rows(), dim);
    for (int b = 0; b < blocks(); b++) {
      long r0 = (long) b * BLOCK_ROWS;
      long r1 = Math.min(rows, r0 + BLOCK_ROWS);
      INDArray p = block(b);
      if (g.dataType() != DataType.FLOAT) {
        p = p.castTo(g.dataType());
      }
      out.addi(g.get(NDArrayIndex.all(), NDArrayIndex.interval(r0, r1)).mmul(p));
    }
    return out;
  }
}
