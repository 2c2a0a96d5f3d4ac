package dev.ggda.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_64F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import static org.bytedeco.cuda.global.cudart.CUDA_R_64F;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;

import dev.ggda.config.ActivationKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link Gpu} on a CUDA device through JavaCPP's CUDA 13 presets: cudart for memory, cuBLAS for the
 * GEMMs, NVRTC to compile {@code kernels.cu} for the device at start-up (or a PTX file named by
 * {@code -Dggda.cuda.ptx}, for hosts without NVRTC) and the driver API to launch its kernels. Work
 * goes to the legacy default stream, so it runs in order; host transfers go through a pinned
 * buffer. Each call makes the device current for the calling thread first (Spark tasks are
 * threads).
 */
public final class CudaGpu implements Gpu {
  /** Kernels loaded from this resource. */
  static final String KERNELS = "/dev/ggda/cuda/kernels.cu";

  /** A PTX file to load instead of compiling the kernels with NVRTC. */
  public static final String PTX_PROPERTY = "ggda.cuda.ptx";

  private static final int THREADS = 256;
  private static final long STAGING_BYTES = 64L << 20;
  static final String[] KERNEL_NAMES = {
    "bias_activation",
    "activation_backward",
    "logit_gradients",
    "outer_sums",
    "split_tf32",
    "scale_rows",
    "add_to_double",
    "rows_to_double",
    "gather_rows",
    "append_ones",
    "gauss_newton_direction",
    "projection_rows"
  };

  private final int ordinal;
  private final String name;
  private final String kernelOrigin;
  private final cublasContext blas = new cublasContext();
  private final Map<String, CUfunc_st> kernels = new HashMap<>();
  private final CUmod_st module = new CUmod_st();
  private final Pointer staging = new Pointer();
  private Thread boundTo;
  private boolean closed;

  /** Opens device {@code ordinal}: context, cuBLAS handle, kernels, pinned staging buffer. */
  public CudaGpu(int ordinal) {
    this.ordinal = ordinal;
    check(cudart.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
    boundTo = Thread.currentThread();
    cudaDeviceProp prop = new cudaDeviceProp();
    check(cudart.cudaGetDeviceProperties(prop, ordinal), "cudaGetDeviceProperties");
    name = prop.name().getString();
    int[] major = {0};
    int[] minor = {0};
    check(
        cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, ordinal),
        "compute capability");
    check(
        cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, ordinal),
        "compute capability");
    checkBlas(cublas.cublasCreate_v2(blas), "cublasCreate");
    String ptx = System.getProperty(PTX_PROPERTY);
    byte[] image;
    if (ptx != null && !ptx.isBlank()) {
      try {
        image = (Files.readString(Path.of(ptx)) + "\0").getBytes(StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException(
            "cannot read -D" + PTX_PROPERTY + "=" + ptx + ": " + e.getMessage(), e);
      }
      kernelOrigin = "PTX " + ptx;
    } else {
      image = compile(source(), major[0], minor[0]);
      kernelOrigin = "NVRTC " + nvrtcVersion() + " for sm_" + major[0] + minor[0];
    }
    checkDriver(cudart.cuModuleLoadData(module, new BytePointer(image)), "cuModuleLoadData");
    for (String k : KERNEL_NAMES) {
      CUfunc_st f = new CUfunc_st();
      checkDriver(cudart.cuModuleGetFunction(f, module, k), "cuModuleGetFunction(" + k + ")");
      kernels.put(k, f);
    }
    check(cudart.cudaMallocHost(staging, STAGING_BYTES), "cudaMallocHost");
  }

  /** The kernels' CUDA C source. */
  public static String source() {
    try (InputStream in = CudaGpu.class.getResourceAsStream(KERNELS)) {
      if (in == null) {
        throw new IllegalStateException(KERNELS + " is not on the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + KERNELS + ": " + e.getMessage(), e);
    }
  }

  /** Compiles the kernels for sm_{major}{minor}: a cubin, so the driver has nothing to JIT. */
  private static byte[] compile(String src, int major, int minor) {
    _nvrtcProgram program = new _nvrtcProgram();
    checkNvrtc(
        nvrtc.nvrtcCreateProgram(
            program,
            new BytePointer(src),
            new BytePointer("kernels.cu"),
            0,
            (PointerPointer) null,
            (PointerPointer) null),
        "nvrtcCreateProgram",
        null);
    try {
      PointerPointer options =
          new PointerPointer("--gpu-architecture=sm_" + major + minor, "--std=c++17");
      int rc = nvrtc.nvrtcCompileProgram(program, 2, options);
      checkNvrtc(rc, "nvrtcCompileProgram", program);
      SizeTPointer size = new SizeTPointer(1);
      checkNvrtc(nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize", program);
      byte[] cubin = new byte[(int) size.get()];
      checkNvrtc(nvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN", program);
      return cubin;
    } finally {
      nvrtc.nvrtcDestroyProgram(program);
    }
  }

  private static String nvrtcVersion() {
    int[] major = {0};
    int[] minor = {0};
    nvrtc.nvrtcVersion(major, minor);
    return major[0] + "." + minor[0];
  }

  @Override
  public String describe() {
    return "cuda:" + ordinal + " (" + name + ")";
  }

  /** Where the kernels came from: NVRTC (version, target) or a PTX file. */
  public String kernelOrigin() {
    return kernelOrigin;
  }

  @Override
  public long[] memory() {
    bind();
    SizeTPointer free = new SizeTPointer(1);
    SizeTPointer total = new SizeTPointer(1);
    check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
    return new long[] {free.get(), total.get()};
  }

  /** A device array: base address of its allocation, element offset, elements left. */
  private record Mem(Type type, long base, long offset, long length) implements Array {
    @Override
    public Array at(long off) {
      if (off < 0 || off > length) {
        throw new IndexOutOfBoundsException("view at " + off + " of " + length + " elements");
      }
      return new Mem(type, base, offset + off, length - off);
    }

    long address() {
      return base + offset * type.bytes;
    }
  }

  /**
   * A pointer to a raw device address (cuBLAS, memcpy and memset take device addresses as
   * pointers).
   */
  private static final class DevicePointer extends Pointer {
    DevicePointer(long address) {
      this.address = address;
    }
  }

  private static Mem mem(Array a, Type type) {
    Mem m = (Mem) a;
    if (m.type != type) {
      throw new IllegalArgumentException("expected a " + type + " array, got " + m.type);
    }
    return m;
  }

  private static Pointer ptr(Array a, Type type) {
    return new DevicePointer(mem(a, type).address());
  }

  /** A kernel argument: the device address, or 0 for a null array. */
  private static long addr(Array a, Type type) {
    return a == null ? 0L : mem(a, type).address();
  }

  private void bind() {
    if (closed) {
      throw new IllegalStateException(describe() + " is closed");
    }
    if (boundTo != Thread.currentThread()) {
      check(cudart.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
      boundTo = Thread.currentThread();
    }
  }

  @Override
  public Array alloc(Type type, long length) {
    bind();
    Pointer p = new Pointer();
    check(
        cudart.cudaMalloc(p, Math.max(1, length) * type.bytes),
        "cudaMalloc(" + length * type.bytes + " bytes)");
    return new Mem(type, p.address(), 0, length);
  }

  @Override
  public void free(Array a) {
    Mem m = (Mem) a;
    if (m.offset != 0) {
      throw new IllegalArgumentException("free the allocation, not a view");
    }
    bind();
    check(cudart.cudaFree(new DevicePointer(m.base)), "cudaFree");
  }

  @Override
  public void zero(Array a, long n) {
    bind();
    Mem m = (Mem) a;
    check(
        cudart.cudaMemsetAsync(new DevicePointer(m.address()), 0, n * m.type.bytes, null),
        "cudaMemsetAsync");
  }

  @Override
  public void upload(float[] src, int off, int n, Array dst) {
    bind();
    Mem m = mem(dst, Type.FLOAT);
    FloatPointer host = new FloatPointer(staging);
    int chunk = (int) (STAGING_BYTES / 4);
    for (int i = 0; i < n; i += chunk) {
      int len = Math.min(chunk, n - i);
      host.put(src, off + i, len);
      check(
          cudart.cudaMemcpy(
              new DevicePointer(m.address() + 4L * i), staging, 4L * len, cudaMemcpyHostToDevice),
          "upload");
    }
  }

  @Override
  public void upload(int[] src, int off, int n, Array dst) {
    bind();
    Mem m = mem(dst, Type.INT);
    IntPointer host = new IntPointer(staging);
    int chunk = (int) (STAGING_BYTES / 4);
    for (int i = 0; i < n; i += chunk) {
      int len = Math.min(chunk, n - i);
      host.put(src, off + i, len);
      check(
          cudart.cudaMemcpy(
              new DevicePointer(m.address() + 4L * i), staging, 4L * len, cudaMemcpyHostToDevice),
          "upload");
    }
  }

  @Override
  public void upload(double[] src, int off, int n, Array dst) {
    bind();
    Mem m = mem(dst, Type.DOUBLE);
    DoublePointer host = new DoublePointer(staging);
    int chunk = (int) (STAGING_BYTES / 8);
    for (int i = 0; i < n; i += chunk) {
      int len = Math.min(chunk, n - i);
      host.put(src, off + i, len);
      check(
          cudart.cudaMemcpy(
              new DevicePointer(m.address() + 8L * i), staging, 8L * len, cudaMemcpyHostToDevice),
          "upload");
    }
  }

  @Override
  public void download(Array src, float[] dst, int off, int n) {
    bind();
    Mem m = mem(src, Type.FLOAT);
    FloatPointer host = new FloatPointer(staging);
    int chunk = (int) (STAGING_BYTES / 4);
    for (int i = 0; i < n; i += chunk) {
      int len = Math.min(chunk, n - i);
      check(
          cudart.cudaMemcpy(
              staging, new DevicePointer(m.address() + 4L * i), 4L * len, cudaMemcpyDeviceToHost),
          "download");
      host.get(dst, off + i, len);
    }
  }

  @Override
  public void download(Array src, double[] dst, int off, int n) {
    bind();
    Mem m = mem(src, Type.DOUBLE);
    DoublePointer host = new DoublePointer(staging);
    int chunk = (int) (STAGING_BYTES / 8);
    for (int i = 0; i < n; i += chunk) {
      int len = Math.min(chunk, n - i);
      check(
          cudart.cudaMemcpy(
              staging, new DevicePointer(m.address() + 8L * i), 8L * len, cudaMemcpyDeviceToHost),
          "download");
      host.get(dst, off + i, len);
    }
  }

  @Override
  public void sync() {
    bind();
    check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
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
    bind();
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
    int compute = precision == Precision.TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    try (PointerScope scope = new PointerScope()) {
      checkBlas(
          cublas.cublasGemmEx(
              blas,
              transB ? CUBLAS_OP_T : CUBLAS_OP_N,
              transA ? CUBLAS_OP_T : CUBLAS_OP_N,
              n,
              m,
              k,
              new FloatPointer(alpha),
              ptr(b, Type.FLOAT),
              CUDA_R_32F,
              ldb,
              ptr(a, Type.FLOAT),
              CUDA_R_32F,
              lda,
              new FloatPointer(beta),
              ptr(c, Type.FLOAT),
              CUDA_R_32F,
              ldc,
              compute,
              CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
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
    bind();
    try (PointerScope scope = new PointerScope()) {
      checkBlas(
          cublas.cublasGemmEx(
              blas,
              transB ? CUBLAS_OP_T : CUBLAS_OP_N,
              transA ? CUBLAS_OP_T : CUBLAS_OP_N,
              n,
              m,
              k,
              new DoublePointer(alpha),
              ptr(b, Type.DOUBLE),
              CUDA_R_64F,
              ldb,
              ptr(a, Type.DOUBLE),
              CUDA_R_64F,
              lda,
              new DoublePointer(beta),
              ptr(c, Type.DOUBLE),
              CUDA_R_64F,
              ldc,
              CUBLAS_COMPUTE_64F,
              CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx (float64)");
    }
  }

  /** Kernel arguments in order: Long (device addresses, 64-bit ints), Integer, Float, Double. */
  private void launch(String kernel, long gridX, int gridY, Object... args) {
    bind();
    try (PointerScope scope = new PointerScope()) {
      Pointer[] values = new Pointer[args.length];
      for (int i = 0; i < args.length; i++) {
        Object v = args[i];
        values[i] =
            v instanceof Long l
                ? new LongPointer(1).put(l)
                : v instanceof Integer n
                    ? new IntPointer(1).put(n)
                    : v instanceof Float f
                        ? new FloatPointer(1).put(f)
                        : new DoublePointer(1).put((Double) v);
      }
      checkDriver(
          cudart.cuLaunchKernel(
              kernels.get(kernel),
              (int) Math.max(1, gridX),
              Math.max(1, gridY),
              1,
              THREADS,
              1,
              1,
              0,
              null,
              new PointerPointer<>(values),
              null),
          "cuLaunchKernel(" + kernel + ")");
    }
  }

  /** Blocks for a grid-stride loop over n elements. */
  private static long blocks(long n) {
    return Math.min(65_535L * 16, (n + THREADS - 1) / THREADS);
  }

  private static int code(ActivationKind act) {
    return act == null ? 0 : act.ordinal() + 1;
  }

  @Override
  public void biasActivation(Array z, Array bias, int rows, int cols, ActivationKind act) {
    launch(
        "bias_activation",
        blocks((long) rows * cols),
        1,
        addr(z, Type.FLOAT),
        addr(bias, Type.FLOAT),
        rows,
        cols,
        code(act));
  }

  @Override
  public void activationBackward(Array d, Array a, long n, ActivationKind act) {
    launch(
        "activation_backward",
        blocks(n),
        1,
        addr(d, Type.FLOAT),
        addr(a, Type.FLOAT),
        n,
        code(act));
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
    launch(
        "logit_gradients",
        (rows + THREADS - 1) / THREADS,
        1,
        addr(logits, Type.FLOAT),
        addr(labels, Type.INT),
        rows,
        classes,
        addr(dMargin, Type.FLOAT),
        addr(q, Type.FLOAT),
        addr(dLoss, Type.FLOAT),
        addr(probs, Type.FLOAT));
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
    long width = (long) in * out + (bias ? out : 0);
    launch(
        "outer_sums",
        (width + THREADS - 1) / THREADS,
        Math.min(count, 65_535),
        addr(a, Type.FLOAT),
        lda,
        in,
        addr(d, Type.FLOAT),
        ldd,
        out,
        bias ? 1 : 0,
        addr(segments, Type.INT),
        count,
        addr(rowA, Type.INT),
        addr(rowB, Type.INT),
        addr(scale, Type.FLOAT),
        sign,
        addr(dst, Type.FLOAT),
        ldDst,
        col,
        accumulate ? 1 : 0,
        addr(lo, Type.FLOAT));
  }

  @Override
  public void splitTf32(Array x, Array hi, Array lo, long n) {
    launch(
        "split_tf32",
        blocks(n),
        1,
        addr(x, Type.FLOAT),
        addr(hi, Type.FLOAT),
        addr(lo, Type.FLOAT),
        n);
  }

  @Override
  public void scaleRows(Array src, Array s, float sign, int rows, int cols, Array dst) {
    launch(
        "scale_rows",
        blocks((long) rows * cols),
        1,
        addr(src, Type.FLOAT),
        addr(s, Type.FLOAT),
        sign,
        rows,
        cols,
        addr(dst, Type.FLOAT));
  }

  @Override
  public void addToDouble(Array dst, Array src, long n) {
    launch("add_to_double", blocks(n), 1, addr(dst, Type.DOUBLE), addr(src, Type.FLOAT), n);
  }

  @Override
  public void rowsToDouble(Array src, Array scale, int rows, int cols, Array dst) {
    launch(
        "rows_to_double",
        blocks((long) rows * cols),
        1,
        addr(src, Type.FLOAT),
        addr(scale, Type.DOUBLE),
        rows,
        cols,
        addr(dst, Type.DOUBLE));
  }

  @Override
  public void gatherRows(Array src, int cols, Array idx, int rows, Array dst) {
    launch(
        "gather_rows",
        blocks((long) rows * cols),
        1,
        addr(src, Type.FLOAT),
        cols,
        addr(idx, Type.INT),
        rows,
        addr(dst, Type.FLOAT));
  }

  @Override
  public void appendOnes(Array a, int rows, int cols, Array dst) {
    launch(
        "append_ones",
        blocks((long) rows * (cols + 1)),
        1,
        addr(a, Type.FLOAT),
        rows,
        cols,
        addr(dst, Type.FLOAT));
  }

  @Override
  public void gaussNewtonDirection(Array probs, int rows, int classes, int cls, Array dst) {
    launch(
        "gauss_newton_direction",
        blocks((long) rows * classes),
        1,
        addr(probs, Type.FLOAT),
        rows,
        classes,
        cls,
        addr(dst, Type.FLOAT));
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
    launch(
        "projection_rows",
        blocks((long) rows * dim),
        1,
        addr(dst, Type.FLOAT),
        gaussian ? 1 : 0,
        key,
        row0,
        rows,
        dim,
        scale,
        gaussScale);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    bind();
    cudart.cudaFreeHost(staging);
    cublas.cublasDestroy_v2(blas);
    cudart.cuModuleUnload(module);
    closed = true;
  }

  static void check(int status, String what) {
    if (status != 0) {
      throw new IllegalStateException(
          what + " failed: " + cudart.cudaGetErrorString(status).getString() + " (" + status + ")");
    }
  }

  private static void checkDriver(int status, String what) {
    if (status != 0) {
      String text = "";
      try {
        BytePointer p = new BytePointer((Pointer) null);
        if (cudart.cuGetErrorString(status, p) == 0 && !p.isNull()) {
          text = " " + p.getString();
        }
      } catch (RuntimeException | LinkageError e) {
        // the number alone, then
      }
      throw new IllegalStateException(what + " failed: CUDA driver error " + status + text);
    }
  }

  private static void checkBlas(int status, String what) {
    if (status != 0) {
      throw new IllegalStateException(
          what
              + " failed: "
              + cublas.cublasGetStatusString(status).getString()
              + " ("
              + status
              + ")");
    }
  }

  private static void checkNvrtc(int status, String what, _nvrtcProgram program) {
    if (status == 0) {
      return;
    }
    String log = "";
    if (program != null) {
      SizeTPointer size = new SizeTPointer(1);
      nvrtc.nvrtcGetProgramLogSize(program, size);
      byte[] text = new byte[(int) Math.max(1, size.get())];
      nvrtc.nvrtcGetProgramLog(program, text);
      log = ": " + new String(text, StandardCharsets.UTF_8).strip();
    }
    throw new IllegalStateException(
        what + " failed: " + nvrtc.nvrtcGetErrorString(status).getString() + log);
  }
}
