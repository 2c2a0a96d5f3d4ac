// Element-wise kernels of the cuda featurize backend (dev.ggda.cuda.CudaFeaturizer), compiled at run
// time by NVRTC. Matrices are row-major. Each kernel has a Java twin in the tests' EmulatedGpu, which
// runs CudaFeaturizer on the CPU against the ND4J backend: change both together.
// Activation codes: 0 identity, 1 relu, 2 tanh, 3 sigmoid.

#define GOLDEN_GAMMA 0x9E3779B97F4A7C15ULL
#define TWO_PI (2.0 * 3.141592653589793)
#define TWO_POW_53 9007199254740992.0
#define NEG_INF (-__int_as_float(0x7f800000))

typedef unsigned long long u64;

// Seeds.mix: the SplitMix64 finaliser of seed + gamma * (salt + 1); also the salt-th long of a
// SplittableRandom seeded with seed.
__device__ __forceinline__ u64 mix(u64 seed, u64 salt) {
  u64 z = seed + GOLDEN_GAMMA * (salt + 1ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Rounds to the nearest tf32 value (10 stored mantissa bits, ties away from zero): exactly what a
// tensor core reads, so x - round(x) carries the rest.
__device__ __forceinline__ float tf32_round(float x) {
  return __uint_as_float((__float_as_uint(x) + 0x1000u) & 0xFFFFE000u);
}

#define GRID_STRIDE(i, n) for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < (n); i += (long) gridDim.x * blockDim.x)

// z[r, c] = act(z[r, c] + bias[c])
extern "C" __global__ void bias_activation(float* z, const float* bias, int rows, int cols, int act) {
  GRID_STRIDE(i, (long) rows * cols) {
    float v = z[i] + bias[i % cols];
    if (act == 1) {
      v = v > 0.f ? v : 0.f;
    } else if (act == 2) {
      v = tanhf(v);
    } else if (act == 3) {
      v = 1.f / (1.f + expf(-v));
    }
    z[i] = v;
  }
}

// d *= act'(.) written through the activation's output a (layer input of the next layer).
extern "C" __global__ void activation_backward(float* d, const float* a, long n, int act) {
  GRID_STRIDE(i, n) {
    float x = a[i];
    float g = act == 1 ? (x > 0.f ? 1.f : 0.f) : act == 2 ? 1.f - x * x : x * (1.f - x);
    d[i] *= g;
  }
}

// One thread per row of logits (rows x classes), label y. Each output is optional (null):
// dmargin = df/dz (TRAK's margin), q = 1 - p_y summed over the other classes, dloss = dl/dz with its
// true-class entry -q, probs = softmax.
extern "C" __global__ void logit_gradients(const float* logits, const int* y, int rows, int classes, float* dmargin,
    float* q, float* dloss, float* probs) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) {
    return;
  }
  const float* z = logits + (long) r * classes;
  int t = y[r];
  float mx = NEG_INF;
  for (int c = 0; c < classes; c++) {
    mx = fmaxf(mx, z[c]);
  }
  float sum = 0.f;
  for (int c = 0; c < classes; c++) {
    sum += expf(z[c] - mx);
  }
  float others = 0.f;
  for (int c = 0; c < classes; c++) {
    if (c != t) {
      others += expf(z[c] - mx) / sum;
    }
  }
  long o = (long) r * classes;
  if (q != 0) {
    q[r] = others;
  }
  if (dloss != 0) {
    for (int c = 0; c < classes; c++) {
      dloss[o + c] = c == t ? -others : expf(z[c] - mx) / sum;
    }
  }
  if (probs != 0) {
    for (int c = 0; c < classes; c++) {
      probs[o + c] = expf(z[c] - mx) / sum;
    }
  }
  if (dmargin != 0) {
    float mo = NEG_INF;
    for (int c = 0; c < classes; c++) {
      if (c != t) {
        mo = fmaxf(mo, z[c]);
      }
    }
    float so = 0.f;
    for (int c = 0; c < classes; c++) {
      if (c != t) {
        so += expf(z[c] - mo);
      }
    }
    for (int c = 0; c < classes; c++) {
      dmargin[o + c] = c == t ? 1.f : -(expf(z[c] - mo) / so);
    }
  }
}

// Per segment s (pass rows seg[s] .. seg[s+1]-1) and element e of a layer's block (in x out weights
// row-major, then out biases when bias != 0): sum_i a[i, j] d[i, c], e = j * out + c (bias: sum_i
// d[i, c]). The sum lands in row rowA[s] of dst (row s when rowA is null) at column col + e, with
// d[i, :] scaled by scale[i] * sign when scale is given; rowB, when given, gets the unscaled sum.
// accumulate adds to what dst holds. With lo (no accumulate, no rowB) the value v is stored as
// dst = tf32(v), lo = v - tf32(v), which is exact. Grid: x over elements, y over segments.
extern "C" __global__ void outer_sums(const float* a, int lda, int in, const float* d, int ldd, int out, int bias,
    const int* seg, int nseg, const int* rowA, const int* rowB, const float* scale, float sign, float* dst, long ldDst,
    long col, int accumulate, float* lo) {
  long weights = (long) in * out;
  long e = blockIdx.x * (long) blockDim.x + threadIdx.x;
  if (e >= weights + (bias != 0 ? out : 0)) {
    return;
  }
  bool isBias = e >= weights;
  int j = isBias ? 0 : (int) (e / out);
  int c = isBias ? (int) (e - weights) : (int) (e % out);
  for (int s = blockIdx.y; s < nseg; s += gridDim.y) {
    float sumA = 0.f;
    float sumB = 0.f;
    for (int i = seg[s]; i < seg[s + 1]; i++) {
      float dv = d[(long) i * ldd + c];
      float ds = scale != 0 ? dv * (scale[i] * sign) : dv;
      float av = isBias ? 1.f : a[(long) i * lda + j];
      sumA += isBias ? ds : av * ds;
      sumB += isBias ? dv : av * dv;
    }
    long ia = (long) (rowA != 0 ? rowA[s] : s) * ldDst + col + e;
    float va = accumulate != 0 ? dst[ia] + sumA : sumA;
    if (lo != 0) {
      float h = tf32_round(va);
      dst[ia] = h;
      lo[ia] = va - h;
    } else {
      dst[ia] = va;
    }
    if (rowB != 0) {
      long ib = (long) rowB[s] * ldDst + col + e;
      dst[ib] = accumulate != 0 ? dst[ib] + sumB : sumB;
    }
  }
}

// hi = tf32(x), lo = x - hi (hi may be x itself).
extern "C" __global__ void split_tf32(const float* x, float* hi, float* lo, long n) {
  GRID_STRIDE(i, n) {
    float v = x[i];
    float h = tf32_round(v);
    hi[i] = h;
    lo[i] = v - h;
  }
}

// dst[r, c] = src[r, c] * s[r], negated when sign < 0.
extern "C" __global__ void scale_rows(const float* src, const float* s, float sign, int rows, int cols, float* dst) {
  GRID_STRIDE(i, (long) rows * cols) {
    float v = src[i] * s[i / cols];
    dst[i] = sign < 0.f ? -v : v;
  }
}

// dst += (double) src
extern "C" __global__ void add_to_double(double* dst, const float* src, long n) {
  GRID_STRIDE(i, n) {
    dst[i] += (double) src[i];
  }
}

// dst[r, c] = (double) src[r, c] * scale[r] (scale null: 1)
extern "C" __global__ void rows_to_double(const float* src, const double* scale, int rows, int cols, double* dst) {
  GRID_STRIDE(i, (long) rows * cols) {
    double v = (double) src[i];
    dst[i] = scale != 0 ? v * scale[i / cols] : v;
  }
}

// dst[r, :] = src[idx[r], :]
extern "C" __global__ void gather_rows(const float* src, int cols, const int* idx, int rows, float* dst) {
  GRID_STRIDE(i, (long) rows * cols) {
    long r = i / cols;
    dst[i] = src[(long) idx[r] * cols + (i - r * cols)];
  }
}

// dst = [a, 1] (rows x (cols + 1))
extern "C" __global__ void append_ones(const float* a, int rows, int cols, float* dst) {
  GRID_STRIDE(i, (long) rows * (cols + 1)) {
    long r = i / (cols + 1);
    long c = i - r * (cols + 1);
    dst[i] = c < cols ? a[r * cols + c] : 1.f;
  }
}

// dst[r, j] = ([j == cls] - p[r, j]) * sqrt(p[r, cls]): the output gradient whose backward gives
// row r's cls-th factor of the Gauss-Newton matrix.
extern "C" __global__ void gauss_newton_direction(const float* probs, int rows, int classes, int cls, float* dst) {
  GRID_STRIDE(i, (long) rows * classes) {
    long r = i / classes;
    int j = (int) (i - r * classes);
    dst[i] = ((j == cls ? 1.f : 0.f) - probs[i]) * sqrtf(probs[r * classes + cls]);
  }
}

// Rows row0 .. row0 + rows - 1 of a projection P (dim columns) into dst (rows x dim), the values
// Projection.entry gives: block b = row / 512 of P is the stream of a SplittableRandom seeded with
// mix(key, b), read in row-major order within the block. kind 0: rademacher, +-scale (64 signs per
// long, lowest bit first); kind 1: gaussian, Box-Muller pairs times gaussScale.
extern "C" __global__ void projection_rows(float* dst, int kind, u64 key, long row0, int rows, int dim, float scale,
    double gaussScale) {
  GRID_STRIDE(i, (long) rows * dim) {
    long r = row0 + i / dim;
    long c = i % dim;
    long b = r / 512;
    u64 e = (u64) ((r - b * 512) * dim + c);
    u64 stream = mix(key, (u64) b);
    if (kind == 0) {
      dst[i] = ((mix(stream, e >> 6) >> (e & 63)) & 1ULL) == 0 ? scale : -scale;
    } else {
      u64 pair = e >> 1;
      double u1 = 1.0 - (double) (mix(stream, 2 * pair) >> 11) / TWO_POW_53;
      double u2 = (double) (mix(stream, 2 * pair + 1) >> 11) / TWO_POW_53;
      double radius = sqrt(-2.0 * log(u1)) * gaussScale;
      dst[i] = (float) (radius * ((e & 1) == 0 ? cos(TWO_PI * u2) : sin(TWO_PI * u2)));
    }
  }
}
