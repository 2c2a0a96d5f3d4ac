package dev.ggda.cuda;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.ProjectionKind;
import dev.ggda.math.Projection;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs every {@link Gpu} operation on two implementations with the same seeded inputs (odd sizes,
 * views at offsets, all four transpose cases of the GEMMs) and measures how far apart the outputs
 * are: on a device against {@link EmulatedGpu}, it checks each CUDA C kernel against the Java twin
 * the CPU tests rely on. Exact operations must agree bit for bit; the others within a few float32
 * rounding steps (the device contracts multiply-adds and has its own expf, tanhf, log, cos).
 */
public final class KernelTwins {
  private KernelTwins() {}

  /**
   * One operation: the largest difference found (relative to the output's largest magnitude) and
   * what is allowed.
   */
  public record Result(String op, double error, double tolerance) {
    public boolean ok() {
      return error <= tolerance;
    }

    @Override
    public String toString() {
      return String.format(
          "%-40s %.2e (allowed %.0e) %s", op, error, tolerance, ok() ? "ok" : "FAIL");
    }
  }

  /** Compares {@code device} with {@code reference} operation by operation. */
  public static List<Result> compare(Gpu device, Gpu reference) {
    Pair p = new Pair(device, reference);
    List<Result> out = new ArrayList<>();
    SplittableRandom rnd = new SplittableRandom(17);

    float[] data = gaussian(rnd, 5000, 1.0);
    out.add(
        p.result(
            "upload, views, download",
            0,
            () -> {
              float[][] r = new float[2][];
              for (int i = 0; i < 2; i++) {
                Gpu g = p.gpus[i];
                Gpu.Array a = g.alloc(Gpu.Type.FLOAT, 5000);
                g.zero(a, 5000);
                g.upload(data, 100, 3000, a.at(1000));
                r[i] = new float[5000];
                g.download(a, r[i], 0, 5000);
                g.free(a);
              }
              return r;
            }));

    for (ActivationKind act :
        new ActivationKind[] {
          null, ActivationKind.RELU, ActivationKind.TANH, ActivationKind.SIGMOID
        }) {
      float[] z = gaussian(rnd, 37 * 129, 2.0);
      float[] bias = gaussian(rnd, 129, 1.0);
      out.add(
          p.floats(
              "bias_activation " + act,
              act == null || act == ActivationKind.RELU ? 0 : 1e-6,
              37 * 129,
              (g, a) -> g.biasActivation(p.copy(g, a, z), p.upload(g, bias), 37, 129, act),
              z));
    }
    for (ActivationKind act : ActivationKind.values()) {
      float[] d = gaussian(rnd, 4773, 1.0);
      float[] fwd =
          act == ActivationKind.TANH
              ? tanh(gaussian(rnd, 4773, 1.0))
              : uniform(rnd, 4773, act == ActivationKind.RELU ? -1 : 0, 1);
      out.add(
          p.floats(
              "activation_backward " + act,
              act == ActivationKind.RELU ? 0 : 1e-6,
              4773,
              (g, a) -> g.activationBackward(p.copy(g, a, d), p.upload(g, fwd), 4773, act),
              d));
    }

    int rows = 300;
    int classes = 10;
    float[] logits = gaussian(rnd, rows * classes, 3.0);
    for (int i = 0; i < 40; i++) {
      logits[rnd.nextInt(logits.length)] = rnd.nextBoolean() ? 60f : -60f;
    }
    int[] labels = new int[rows];
    for (int i = 0; i < rows; i++) {
      labels[i] = rnd.nextInt(classes);
    }
    for (String output : new String[] {"dmargin", "q", "dloss", "probs"}) {
      int n = output.equals("q") ? rows : rows * classes;
      out.add(
          p.floats(
              "logit_gradients " + output,
              1e-5,
              n,
              (g, a) -> {
                Gpu.Array z = p.upload(g, logits);
                Gpu.Array y = p.uploadInts(g, labels);
                g.logitGradients(
                    z,
                    y,
                    rows,
                    classes,
                    output.equals("dmargin") ? a : null,
                    output.equals("q") ? a : null,
                    output.equals("dloss") ? a : null,
                    output.equals("probs") ? a : null);
              },
              null));
    }

    // outer_sums: 50 rows in 9 segments of 1..11 rows, 13 x 7 layer (+ bias), into 20 stacked rows.
    float[] av = gaussian(rnd, 50 * 13, 1.0);
    float[] dv = gaussian(rnd, 50 * 7, 1.0);
    float[] scale = uniform(rnd, 50, 0, 1);
    int[] seg = {0, 1, 4, 5, 16, 20, 27, 35, 36, 50};
    int[] rowA = {3, 0, 7, 1, 9, 2, 5, 4, 8};
    int[] rowB = {13, 10, 17, 11, 19, 12, 15, 14, 18};
    int width = 13 * 7 + 7;
    float[] prior = gaussian(rnd, 20 * 130, 1.0);
    out.add(
        p.floats(
            "outer_sums grouped, scaled, both rows",
            1e-5,
            20 * 130,
            (g, a) ->
                g.outerSums(
                    p.upload(g, av),
                    13,
                    13,
                    p.upload(g, dv),
                    7,
                    7,
                    true,
                    p.uploadInts(g, seg),
                    9,
                    p.uploadInts(g, rowA),
                    p.uploadInts(g, rowB),
                    p.upload(g, scale),
                    -1f,
                    p.copy(g, a, prior),
                    130,
                    11,
                    true,
                    null),
            prior));
    out.add(
        p.floats(
            "outer_sums no bias, unscaled, overwrite",
            1e-5,
            20 * 130,
            (g, a) ->
                g.outerSums(
                    p.upload(g, av),
                    13,
                    12,
                    p.upload(g, dv),
                    7,
                    6,
                    false,
                    p.uploadInts(g, seg),
                    9,
                    p.uploadInts(g, rowA),
                    null,
                    null,
                    1f,
                    p.copy(g, a, prior),
                    130,
                    3,
                    false,
                    null),
            prior));
    int[] single = new int[51];
    for (int i = 0; i <= 50; i++) {
      single[i] = i;
    }
    for (String half : new String[] {"hi", "lo"}) {
      // One row per segment: each element is one rounded product on both sides, so both halves
      // agree.
      out.add(
          p.floats(
              "outer_sums per example, tf32 " + half,
              1e-6,
              50 * width,
              (g, a) -> {
                Gpu.Array hi = half.equals("hi") ? a : p.alloc(g, Gpu.Type.FLOAT, 50L * width);
                Gpu.Array lo = half.equals("lo") ? a : p.alloc(g, Gpu.Type.FLOAT, 50L * width);
                g.outerSums(
                    p.upload(g, av),
                    13,
                    13,
                    p.upload(g, dv),
                    7,
                    7,
                    true,
                    p.uploadInts(g, single),
                    50,
                    null,
                    null,
                    null,
                    1f,
                    hi,
                    width,
                    0,
                    false,
                    lo);
              },
              null));
    }

    float[] x = gaussian(rnd, 3001, 1.0);
    out.add(
        p.floats(
            "split_tf32 hi",
            0,
            3001,
            (g, a) -> g.splitTf32(p.upload(g, x), a, p.alloc(g, Gpu.Type.FLOAT, 3001), 3001),
            null));
    out.add(
        p.floats(
            "split_tf32 lo",
            0,
            3001,
            (g, a) -> g.splitTf32(p.upload(g, x), p.alloc(g, Gpu.Type.FLOAT, 3001), a, 3001),
            null));
    float[] s = gaussian(rnd, 23, 1.0);
    float[] m = gaussian(rnd, 23 * 31, 1.0);
    out.add(
        p.floats(
            "scale_rows",
            0,
            23 * 31,
            (g, a) -> g.scaleRows(p.upload(g, m), p.upload(g, s), -1f, 23, 31, a),
            null));
    double[] acc = gaussianDoubles(rnd, 23 * 31);
    out.add(
        p.doubles(
            "add_to_double",
            0,
            23 * 31,
            (g, a) -> {
              g.upload(acc, 0, acc.length, a);
              g.addToDouble(a, p.upload(g, m), 23 * 31);
            }));
    double[] inv = gaussianDoubles(rnd, 23);
    out.add(
        p.doubles(
            "rows_to_double",
            0,
            23 * 31,
            (g, a) -> {
              Gpu.Array sc = p.alloc(g, Gpu.Type.DOUBLE, 23);
              g.upload(inv, 0, 23, sc);
              g.rowsToDouble(p.upload(g, m), sc, 23, 31, a);
            }));
    int[] idx = {5, 0, 22, 5, 17};
    out.add(
        p.floats(
            "gather_rows",
            0,
            5 * 31,
            (g, a) -> g.gatherRows(p.upload(g, m), 31, p.uploadInts(g, idx), 5, a),
            null));
    out.add(
        p.floats(
            "append_ones", 0, 23 * 32, (g, a) -> g.appendOnes(p.upload(g, m), 23, 31, a), null));
    float[] probs = uniform(rnd, rows * classes, 0, 1);
    out.add(
        p.floats(
            "gauss_newton_direction",
            0,
            rows * classes,
            (g, a) -> g.gaussNewtonDirection(p.upload(g, probs), rows, classes, 7, a),
            null));

    Projection rademacher = new Projection(ProjectionKind.RADEMACHER, 1300, 77, 4, 1, 2);
    out.add(
        p.floats(
            "projection_rows rademacher",
            0,
            700 * 77,
            (g, a) ->
                g.projectionRows(a, false, rademacher.key(), 450, 700, 77, 1f, 1.0 / Math.sqrt(77)),
            null));
    Projection gaussianP = new Projection(ProjectionKind.GAUSSIAN, 1300, 77, 4, 1, 2);
    out.add(
        p.floats(
            "projection_rows gaussian",
            1e-6,
            700 * 77,
            (g, a) ->
                g.projectionRows(a, true, gaussianP.key(), 450, 700, 77, 1f, 1.0 / Math.sqrt(77)),
            null));

    // GEMMs: 37 x 29 times 29 x 41 with padded leading dimensions, every transpose case, at a view.
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        for (Gpu.Precision precision : Gpu.Precision.values()) {
          float[] ga = tf32Values(gaussian(rnd, 64 * 64, 1.0), precision);
          float[] gb = tf32Values(gaussian(rnd, 64 * 64, 1.0), precision);
          float[] gc = gaussian(rnd, 40 * 50, 1.0);
          String name = "gemm " + precision + (ta ? " A^T" : " A") + (tb ? " B^T" : " B");
          out.add(
              p.floats(
                  name,
                  1e-5,
                  40 * 50 - 7,
                  (g, a) ->
                      g.gemm(
                          ta,
                          tb,
                          37,
                          41,
                          29,
                          0.75f,
                          p.upload(g, ga),
                          60,
                          p.upload(g, gb),
                          50,
                          0.5f,
                          p.copy(g, a, gc).at(7),
                          50,
                          precision),
                  gc));
        }
        double[] da = gaussianDoubles(rnd, 64 * 64);
        double[] db = gaussianDoubles(rnd, 64 * 64);
        out.add(
            p.doubles(
                "dgemm" + (ta ? " A^T" : " A") + (tb ? " B^T" : " B"),
                1e-13,
                40 * 50,
                (g, a) -> {
                  Gpu.Array xa = p.alloc(g, Gpu.Type.DOUBLE, da.length);
                  g.upload(da, 0, da.length, xa);
                  Gpu.Array xb = p.alloc(g, Gpu.Type.DOUBLE, db.length);
                  g.upload(db, 0, db.length, xb);
                  g.zero(a, 40 * 50);
                  g.dgemm(ta, tb, 37, 41, 29, 1.5, xa, 60, xb, 50, 0.0, a, 50);
                }));
      }
    }
    p.freeAll();
    return out;
  }

  private static float[] tf32Values(float[] v, Gpu.Precision precision) {
    if (precision == Gpu.Precision.TF32) {
      for (int i = 0; i < v.length; i++) {
        v[i] = EmulatedGpu.tf32(v[i]);
      }
    }
    return v;
  }

  private static float[] gaussian(SplittableRandom rnd, int n, double sd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * sd);
    }
    return v;
  }

  private static double[] gaussianDoubles(SplittableRandom rnd, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextGaussian();
    }
    return v;
  }

  private static float[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
    }
    return v;
  }

  private static float[] tanh(float[] v) {
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.tanh(v[i]);
    }
    return v;
  }

  /** An operation writing its output into the given array on one implementation. */
  private interface Op {
    void run(Gpu g, Gpu.Array out);
  }

  private interface Both {
    float[][] run();
  }

  /** The two implementations, and the arrays each call allocated (freed at the end). */
  private static final class Pair {
    final Gpu[] gpus;
    final List<List<Gpu.Array>> allocated = List.of(new ArrayList<>(), new ArrayList<>());

    Pair(Gpu device, Gpu reference) {
      gpus = new Gpu[] {device, reference};
    }

    private List<Gpu.Array> mine(Gpu g) {
      return allocated.get(g == gpus[0] ? 0 : 1);
    }

    Gpu.Array alloc(Gpu g, Gpu.Type type, long n) {
      Gpu.Array a = g.alloc(type, n);
      mine(g).add(a);
      return a;
    }

    Gpu.Array upload(Gpu g, float[] v) {
      Gpu.Array a = g.alloc(Gpu.Type.FLOAT, v.length);
      g.upload(v, 0, v.length, a);
      mine(g).add(a);
      return a;
    }

    Gpu.Array uploadInts(Gpu g, int[] v) {
      Gpu.Array a = g.alloc(Gpu.Type.INT, v.length);
      g.upload(v, 0, v.length, a);
      mine(g).add(a);
      return a;
    }

    /** Fills the output array with v (for in-place operations), returns it. */
    Gpu.Array copy(Gpu g, Gpu.Array out, float[] v) {
      g.upload(v, 0, v.length, out);
      return out;
    }

    Result floats(String name, double tolerance, int n, Op op, float[] initial) {
      return result(
          name,
          tolerance,
          () -> {
            float[][] r = new float[2][];
            for (int i = 0; i < 2; i++) {
              Gpu g = gpus[i];
              Gpu.Array out =
                  g.alloc(Gpu.Type.FLOAT, Math.max(n, initial == null ? 0 : initial.length));
              if (initial == null) {
                g.zero(out, n);
              }
              op.run(g, out);
              r[i] = new float[n];
              g.download(out, r[i], 0, n);
              g.free(out);
              freeAll(g);
            }
            return r;
          });
    }

    Result doubles(String name, double tolerance, int n, Op op) {
      double[][] r = new double[2][];
      for (int i = 0; i < 2; i++) {
        Gpu g = gpus[i];
        Gpu.Array out = g.alloc(Gpu.Type.DOUBLE, n);
        op.run(g, out);
        r[i] = new double[n];
        g.download(out, r[i], 0, n);
        g.free(out);
        freeAll(g);
      }
      double scale = 0;
      double diff = 0;
      for (int j = 0; j < n; j++) {
        scale = Math.max(scale, Math.abs(r[1][j]));
        diff = Math.max(diff, Math.abs(r[0][j] - r[1][j]));
      }
      double err = diff / Math.max(scale, Double.MIN_NORMAL);
      return new Result(name, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err, tolerance);
    }

    Result result(String name, double tolerance, Both both) {
      float[][] r;
      try {
        r = both.run();
      } catch (RuntimeException e) {
        return new Result(name + " (" + e.getMessage() + ")", Double.POSITIVE_INFINITY, tolerance);
      }
      double scale = 0;
      double diff = 0;
      for (int j = 0; j < r[1].length; j++) {
        scale = Math.max(scale, Math.abs(r[1][j]));
        diff = Math.max(diff, Math.abs((double) r[0][j] - r[1][j]));
      }
      double err = diff / Math.max(scale, Double.MIN_NORMAL);
      return new Result(name, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err, tolerance);
    }

    void freeAll(Gpu g) {
      for (Gpu.Array a : mine(g)) {
        g.free(a);
      }
      mine(g).clear();
    }

    void freeAll() {
      freeAll(gpus[0]);
      freeAll(gpus[1]);
    }
  }
}
