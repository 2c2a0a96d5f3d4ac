package dev.ggda.cuda;

import dev.ggda.config.ActivationKind;

/**
 * The device operations {@link CudaFeaturizer} is written in: arrays in device memory, row-major
 * GEMMs and the element-wise kernels of {@code kernels.cu} (each method documents its kernel). One
 * implementation drives a CUDA device ({@link CudaGpu}); the tests run the same featurizer on a
 * Java emulation of these operations. Work is queued in order on one stream; downloads wait for it.
 * Not thread-safe.
 */
public interface Gpu extends AutoCloseable {
  /** Element type of a device array. */
  enum Type {
    FLOAT(4),
    DOUBLE(8),
    INT(4);

    public final int bytes;

    Type(int bytes) {
      this.bytes = bytes;
    }
  }

  /**
   * How a float GEMM rounds. FP32: single precision throughout. TF32: tensor cores read the inputs
   * rounded to tf32 (10 mantissa bits) and accumulate in fp32; exact for inputs that are tf32
   * values already (the +-1 entries of a Rademacher P, or the hi/lo halves {@code split_tf32}
   * makes).
   */
  enum Precision {
    FP32,
    TF32
  }

  /** A device array, or a view of one from an element offset. */
  interface Array {
    Type type();

    /** Elements from the view's start to the end of the allocation. */
    long length();

    /** The view from element {@code offset} of this one. */
    Array at(long offset);
  }

  /** The device, for logs: {@code cuda:0 (NVIDIA H200)}. */
  String describe();

  /** Device memory in bytes: {free, total}. */
  long[] memory();

  /** A new array of {@code length} elements, contents undefined. */
  Array alloc(Type type, long length);

  void free(Array a);

  /** Sets the first n elements to zero. */
  void zero(Array a, long n);

  void upload(float[] src, int off, int n, Array dst);

  void upload(int[] src, int off, int n, Array dst);

  void upload(double[] src, int off, int n, Array dst);

  /** Copies n elements to the host (waits for the queued work). */
  void download(Array src, float[] dst, int off, int n);

  void download(Array src, double[] dst, int off, int n);

  /** Waits until the queued work is done (for timing). */
  void sync();

  /**
   * Row-major C (m x n) = alpha op(A) op(B) + beta C, op(X) = X or X^T; C must not alias A or B.
   */
  void gemm(
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
      Precision precision);

  /** The same in float64. */
  void dgemm(
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
      int ldc);

  /** {@code bias_activation}: z[r, c] = act(z[r, c] + bias[c]); act null is the identity. */
  void biasActivation(Array z, Array bias, int rows, int cols, ActivationKind act);

  /** {@code activation_backward}: d *= act'(.), written through the activation's output a. */
  void activationBackward(Array d, Array a, long n, ActivationKind act);

  /**
   * {@code logit_gradients}: per row of logits, any of df/dz (margin), q = 1 - p_y, dl/dz (loss)
   * and the softmax; null outputs are skipped.
   */
  void logitGradients(
      Array logits,
      Array labels,
      int rows,
      int classes,
      Array dMargin,
      Array q,
      Array dLoss,
      Array probs);

  /** {@code outer_sums}: per-segment sums of the outer products of a layer; see the kernel. */
  void outerSums(
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
      Array lo);

  /** {@code split_tf32}: hi = tf32(x), lo = x - hi; hi may be x. */
  void splitTf32(Array x, Array hi, Array lo, long n);

  /** {@code scale_rows}: dst[r, c] = src[r, c] s[r], negated when sign < 0. */
  void scaleRows(Array src, Array s, float sign, int rows, int cols, Array dst);

  /** {@code add_to_double}: dst (double) += src (float). */
  void addToDouble(Array dst, Array src, long n);

  /** {@code rows_to_double}: dst[r, c] = src[r, c] scale[r] in float64; scale null is 1. */
  void rowsToDouble(Array src, Array scale, int rows, int cols, Array dst);

  /** {@code gather_rows}: dst[r, :] = src[idx[r], :]. */
  void gatherRows(Array src, int cols, Array idx, int rows, Array dst);

  /** {@code append_ones}: dst = [a, 1], rows x (cols + 1). */
  void appendOnes(Array a, int rows, int cols, Array dst);

  /** {@code gauss_newton_direction}: dst[r, j] = ([j == cls] - p[r, j]) sqrt(p[r, cls]). */
  void gaussNewtonDirection(Array probs, int rows, int classes, int cls, Array dst);

  /**
   * {@code projection_rows}: rows row0 .. row0 + rows - 1 of a RADEMACHER (+-scale) or GAUSSIAN
   * (times gaussScale) projection with generator key {@code key}, dim columns, into dst.
   */
  void projectionRows(
      Array dst,
      boolean gaussian,
      long key,
      long row0,
      int rows,
      int dim,
      float scale,
      double gaussScale);

  @Override
  void close();
}
