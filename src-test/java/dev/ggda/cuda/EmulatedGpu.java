package dev.ggda.cuda;

import dev.ggda.config.ActivationKind;

/**
 * {@link Gpu} emulated in Java on the host: every kernel of {@code kernels.cu} restated line for
 * line, GEMMs as float32 loops (TF32: inputs rounded to tf32 first, as tensor cores read them). It
 * lets {@link CudaFeaturizer} run where there is no GPU, against the ND4J backend, so everything
 * but the CUDA C and the JavaCPP calls is tested on the CPU. Counts allocations to catch leaks.
 */
public class EmulatedGpu implements Gpu {
  private long live;
  private long allocations;

  /** A host array standing in for device memory. */
  private static final class HostArray implements Array {
    final Type type;
    final float[] f;
    final double[] d;
    final int[] i;
    final int offset;
    final int capacity;

    HostArray(Type type, float[] f, double[] d, int[] i, int offset, int capacity) {
      this.type = type;
      this.f = f;
      this.d = d;
      this.i = i;
      this.offset = offset;
      this.capacity = capacity;
    }

    @Override
    public Type type() {
      return type;
    }

    @Override
    public long length() {
      return capacity - offset;
    }

    @Override
    public Array at(long off) {
      if (off < 0 || off > length()) {
        throw new IndexOutOfBoundsException("view at " + off + " of " + length());
      }
      return new HostArray(type, f, d, i, offset + (int) off, capacity);
    }
  }

  private static HostArray h(Array a) {
    return (HostArray) a;
  }

  /** Arrays allocated and not freed. */
  public long live() {
    return live;
  }

  public long allocations() {
    return allocations;
  }

  @Override
  public String describe() {
    return "emulated";
  }

  @Override
  public long[] memory() {
    return new long[] {Runtime.getRuntime().freeMemory(), Runtime.getRuntime().maxMemory()};
  }

  @Override
  public Array alloc(Type type, long length) {
    int n = Math.toIntExact(length);
    live++;
    allocations++;
    // NaN-filled, as device memory holds garbage: a kernel that reads what it never wrote shows.
    return switch (type) {
      case FLOAT -> {
        float[] v = new float[n];
        java.util.Arrays.fill(v, Float.NaN);
        yield new HostArray(type, v, null, null, 0, n);
      }
      case DOUBLE -> {
        double[] v = new double[n];
        java.util.Arrays.fill(v, Double.NaN);
        yield new HostArray(type, null, v, null, 0, n);
      }
      case INT -> {
        int[] v = new int[n];
        java.util.Arrays.fill(v, Integer.MIN_VALUE);
        yield new HostArray(type, null, null, v, 0, n);
      }
    };
  }

  @Override
  public void free(Array a) {
    if (h(a).offset != 0) {
      throw new IllegalArgumentException("free the allocation, not a view");
    }
    live--;
  }

  @Override
  public void zero(Array a, long n) {
    HostArray x = h(a);
    for (int k = 0; k < n; k++) {
      switch (x.type) {
        case FLOAT -> x.f[x.offset + k] = 0f;
        case DOUBLE -> x.d[x.offset + k] = 0.0;
        case INT -> x.i[x.offset + k] = 0;
      }
    }
  }

  private static void fits(Array a, long n) {
    if (n > a.length()) {
      throw new IndexOutOfBoundsException(n + " elements into an array of " + a.length());
    }
  }

  @Override
  public void upload(float[] src, int off, int n, Array dst) {
    fits(dst, n);
    System.arraycopy(src, off, h(dst).f, h(dst).offset, n);
  }

  @Override
  public void upload(int[] src, int off, int n, Array dst) {
    fits(dst, n);
    System.arraycopy(src, off, h(dst).i, h(dst).offset, n);
  }

  @Override
  public void upload(double[] src, int off, int n, Array dst) {
    fits(dst, n);
    System.arraycopy(src, off, h(dst).d, h(dst).offset, n);
  }

  @Override
  public void download(Array src, float[] dst, int off, int n) {
    fits(src, n);
    System.arraycopy(h(src).f, h(src).offset, dst, off, n);
  }

  @Override
  public void download(Array src, double[] dst, int off, int n) {
    fits(src, n);
    System.arraycopy(h(src).d, h(src).offset, dst, off, n);
  }

  @Override
  public void sync() {}

  /** tf32_round of kernels.cu. */
  static float tf32(float x) {
    return Float.intBitsToFloat((Float.floatToRawIntBits(x) + 0x1000) & 0xFFFFE000);
  }

  @Override
  public void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Array a,
      int lda,
      Array b,
      int ldb,
      float beta,
      Array c,
      int ldc,
      Precision precision) {
    HostArray ha = h(a);
    HostArray hb = h(b);
    HostArray hc = h(c);
    boolean tf32 = precision == Precision.TF32;
    fits(c, (long) (m - 1) * ldc + n);
    // Row by row, the sum over t in order for every column (the same sums as a dot product per
    // entry), walking B along its rows so that large products stay cache-friendly.
    float[] sum = new float[n];
    for (int r = 0; r < m; r++) {
      java.util.Arrays.fill(sum, 0f);
      for (int t = 0; t < k; t++) {
        float av = ha.f[ha.offset + (transA ? t * lda + r : r * lda + t)];
        if (tf32) {
          av = tf32(av);
        }
        if (transB) {
          for (int col = 0; col < n; col++) {
            float bv = hb.f[hb.offset + col * ldb + t];
            sum[col] += av * (tf32 ? tf32(bv) : bv);
          }
        } else {
          int row = hb.offset + t * ldb;
          if (tf32) {
            for (int col = 0; col < n; col++) {
              sum[col] += av * tf32(hb.f[row + col]);
            }
          } else {
            for (int col = 0; col < n; col++) {
              sum[col] += av * hb.f[row + col];
            }
          }
        }
      }
      for (int col = 0; col < n; col++) {
        int ci = hc.offset + r * ldc + col;
        hc.f[ci] = beta == 0f ? alpha * sum[col] : alpha * sum[col] + beta * hc.f[ci];
      }
    }
  }

  @Override
  public void dgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      double alpha,
      Array a,
      int lda,
      Array b,
      int ldb,
      double beta,
      Array c,
      int ldc) {
    HostArray ha = h(a);
    HostArray hb = h(b);
    HostArray hc = h(c);
    fits(c, (long) (m - 1) * ldc + n);
    double[] sum = new double[n];
    for (int r = 0; r < m; r++) {
      java.util.Arrays.fill(sum, 0);
      for (int t = 0; t < k; t++) {
        double av = ha.d[ha.offset + (transA ? t * lda + r : r * lda + t)];
        for (int col = 0; col < n; col++) {
          sum[col] += av * hb.d[hb.offset + (transB ? col * ldb + t : t * ldb + col)];
        }
      }
      for (int col = 0; col < n; col++) {
        int ci = hc.offset + r * ldc + col;
        hc.d[ci] = beta == 0 ? alpha * sum[col] : alpha * sum[col] + beta * hc.d[ci];
      }
    }
  }

  private static int code(ActivationKind act) {
    return act == null ? 0 : act.ordinal() + 1;
  }

  @Override
  public void biasActivation(Array z, Array bias, int rows, int cols, ActivationKind act) {
    HostArray hz = h(z);
    HostArray hb = h(bias);
    int code = code(act);
    for (int i = 0; i < rows * cols; i++) {
      float v = hz.f[hz.offset + i] + hb.f[hb.offset + i % cols];
      if (code == 1) {
        v = v > 0f ? v : 0f;
      } else if (code == 2) {
        v = (float) Math.tanh(v);
      } else if (code == 3) {
        v = 1f / (1f + (float) Math.exp(-v));
      }
      hz.f[hz.offset + i] = v;
    }
  }

  @Override
  public void activationBackward(Array d, Array a, long n, ActivationKind act) {
    HostArray hd = h(d);
    HostArray ha = h(a);
    int code = code(act);
    for (int i = 0; i < n; i++) {
      float x = ha.f[ha.offset + i];
      float g = code == 1 ? (x > 0f ? 1f : 0f) : code == 2 ? 1f - x * x : x * (1f - x);
      hd.f[hd.offset + i] *= g;
    }
  }

  private static float exp(float x) {
    return (float) Math.exp(x);
  }

  @Override
  public void logitGradients(
      Array logits,
      Array labels,
      int rows,
      int classes,
      Array dMargin,
      Array q,
      Array dLoss,
      Array probs) {
    HostArray hz = h(logits);
    HostArray hy = h(labels);
    for (int r = 0; r < rows; r++) {
      int zo = hz.offset + r * classes;
      int t = hy.i[hy.offset + r];
      float mx = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        mx = Math.max(mx, hz.f[zo + c]);
      }
      float sum = 0f;
      for (int c = 0; c < classes; c++) {
        sum += exp(hz.f[zo + c] - mx);
      }
      float others = 0f;
      for (int c = 0; c < classes; c++) {
        if (c != t) {
          others += exp(hz.f[zo + c] - mx) / sum;
        }
      }
      int o = r * classes;
      if (q != null) {
        h(q).f[h(q).offset + r] = others;
      }
      if (dLoss != null) {
        for (int c = 0; c < classes; c++) {
          h(dLoss).f[h(dLoss).offset + o + c] = c == t ? -others : exp(hz.f[zo + c] - mx) / sum;
        }
      }
      if (probs != null) {
        for (int c = 0; c < classes; c++) {
          h(probs).f[h(probs).offset + o + c] = exp(hz.f[zo + c] - mx) / sum;
        }
      }
      if (dMargin != null) {
        float mo = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          if (c != t) {
            mo = Math.max(mo, hz.f[zo + c]);
          }
        }
        float so = 0f;
        for (int c = 0; c < classes; c++) {
          if (c != t) {
            so += exp(hz.f[zo + c] - mo);
          }
        }
        for (int c = 0; c < classes; c++) {
          h(dMargin).f[h(dMargin).offset + o + c] = c == t ? 1f : -(exp(hz.f[zo + c] - mo) / so);
        }
      }
    }
  }

  @Override
  public void outerSums(
      Array a,
      int lda,
      int in,
      Array d,
      int ldd,
      int out,
      boolean bias,
      Array segments,
      int count,
      Array rowA,
      Array rowB,
      Array scale,
      float sign,
      Array dst,
      long ldDst,
      long col,
      boolean accumulate,
      Array lo) {
    if (lo != null && (accumulate || rowB != null)) {
      throw new IllegalArgumentException(
          "outer_sums writes tf32 halves only without accumulate and rowB");
    }
    HostArray ha = h(a);
    HostArray hd = h(d);
    HostArray seg = h(segments);
    HostArray out0 = h(dst);
    long weights = (long) in * out;
    long width = weights + (bias ? out : 0);
    for (int s = 0; s < count; s++) {
      for (long e = 0; e < width; e++) {
        boolean isBias = e >= weights;
        int j = isBias ? 0 : (int) (e / out);
        int c = isBias ? (int) (e - weights) : (int) (e % out);
        float sumA = 0f;
        float sumB = 0f;
        for (int i = seg.i[seg.offset + s]; i < seg.i[seg.offset + s + 1]; i++) {
          float dv = hd.f[hd.offset + i * ldd + c];
          float ds = scale != null ? dv * (h(scale).f[h(scale).offset + i] * sign) : dv;
          float av = isBias ? 1f : ha.f[ha.offset + i * lda + j];
          sumA += isBias ? ds : av * ds;
          sumB += isBias ? dv : av * dv;
        }
        int ra = rowA != null ? h(rowA).i[h(rowA).offset + s] : s;
        int ia = Math.toIntExact(out0.offset + ra * ldDst + col + e);
        float va = accumulate ? out0.f[ia] + sumA : sumA;
        if (lo != null) {
          float hi = tf32(va);
          out0.f[ia] = hi;
          h(lo).f[Math.toIntExact(h(lo).offset + ra * ldDst + col + e)] = va - hi;
        } else {
          out0.f[ia] = va;
        }
        if (rowB != null) {
          int ib = Math.toIntExact(out0.offset + h(rowB).i[h(rowB).offset + s] * ldDst + col + e);
          out0.f[ib] = accumulate ? out0.f[ib] + sumB : sumB;
        }
      }
    }
  }

  @Override
  public void splitTf32(Array x, Array hi, Array lo, long n) {
    for (int i = 0; i < n; i++) {
      float v = h(x).f[h(x).offset + i];
      float t = tf32(v);
      h(hi).f[h(hi).offset + i] = t;
      h(lo).f[h(lo).offset + i] = v - t;
    }
  }

  @Override
  public void scaleRows(Array src, Array s, float sign, int rows, int cols, Array dst) {
    for (int i = 0; i < rows * cols; i++) {
      float v = h(src).f[h(src).offset + i] * h(s).f[h(s).offset + i / cols];
      h(dst).f[h(dst).offset + i] = sign < 0f ? -v : v;
    }
  }

  @Override
  public void addToDouble(Array dst, Array src, long n) {
    for (int i = 0; i < n; i++) {
      h(dst).d[h(dst).offset + i] += h(src).f[h(src).offset + i];
    }
  }

  @Override
  public void rowsToDouble(Array src, Array scale, int rows, int cols, Array dst) {
    for (int i = 0; i < rows * cols; i++) {
      double v = h(src).f[h(src).offset + i];
      h(dst).d[h(dst).offset + i] = scale != null ? v * h(scale).d[h(scale).offset + i / cols] : v;
    }
  }

  @Override
  public void gatherRows(Array src, int cols, Array idx, int rows, Array dst) {
    for (int r = 0; r < rows; r++) {
      int from = h(idx).i[h(idx).offset + r];
      System.arraycopy(
          h(src).f, h(src).offset + from * cols, h(dst).f, h(dst).offset + r * cols, cols);
    }
  }

  @Override
  public void appendOnes(Array a, int rows, int cols, Array dst) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c <= cols; c++) {
        h(dst).f[h(dst).offset + r * (cols + 1) + c] =
            c < cols ? h(a).f[h(a).offset + r * cols + c] : 1f;
      }
    }
  }

  @Override
  public void gaussNewtonDirection(Array probs, int rows, int classes, int cls, Array dst) {
    HostArray p = h(probs);
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < classes; j++) {
        h(dst).f[h(dst).offset + r * classes + j] =
            ((j == cls ? 1f : 0f) - p.f[p.offset + r * classes + j])
                * (float) Math.sqrt(p.f[p.offset + r * classes + cls]);
      }
    }
  }

  @Override
  public void projectionRows(
      Array dst,
      boolean gaussian,
      long key,
      long row0,
      int rows,
      int dim,
      float scale,
      double gaussScale) {
    for (int i = 0; i < rows * dim; i++) {
      long r = row0 + i / dim;
      long c = i % dim;
      long b = r / 512;
      long e = (r - b * 512) * dim + c;
      long stream = dev.ggda.math.Seeds.mix(key, b);
      float v;
      if (!gaussian) {
        v = ((dev.ggda.math.Seeds.mix(stream, e >>> 6) >>> (e & 63)) & 1L) == 0 ? scale : -scale;
      } else {
        long pair = e >>> 1;
        double u1 =
            1.0 - (double) (dev.ggda.math.Seeds.mix(stream, 2 * pair) >>> 11) / 9007199254740992.0;
        double u2 =
            (double) (dev.ggda.math.Seeds.mix(stream, 2 * pair + 1) >>> 11) / 9007199254740992.0;
        double radius = Math.sqrt(-2.0 * Math.log(u1)) * gaussScale;
        v =
            (float)
                (radius
                    * ((e & 1) == 0
                        ? Math.cos(2.0 * 3.141592653589793 * u2)
                        : Math.sin(2.0 * 3.141592653589793 * u2)));
      }
      h(dst).f[h(dst).offset + i] = v;
    }
  }

  @Override
  public void close() {}
}
