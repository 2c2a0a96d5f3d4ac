package dev.ggda.gpucheck;

import dev.ggda.config.ProjectionKind;
import dev.ggda.cuda.Agreement;
import dev.ggda.cuda.CudaDevices;
import dev.ggda.cuda.CudaFeaturizer;
import dev.ggda.cuda.CudaGpu;
import dev.ggda.cuda.EmulatedGpu;
import dev.ggda.cuda.FeaturizeCases;
import dev.ggda.cuda.Gpu;
import dev.ggda.cuda.KernelTwins;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * deploy/gpu-check run, on the GPU host (a JVM and the GPU; no ND4J, no Spark): checks the cuda
 * backend against the CPU backend's outputs the bundle carries, then times the workload (the
 * Fashion-MNIST MLP, per example and in groups of 64, and TRAK end to end) and prints per-stage
 * times and TFLOP/s. Exit code 0 when every agreement check passes, 1 otherwise; the timings are
 * reported against the given targets but do not change the exit code.
 *
 * <p>Arguments: {@code --bundle DIR} (required); {@code --out DIR} (writes gpu-check.json there);
 * {@code --repeats 3}; {@code --target NAME=SECONDS}, repeatable, for per-example, groups64 and
 * trak-e2e; {@code --rows N} and {@code --targets N} to time fewer rows; {@code --emulated} runs on
 * {@link EmulatedGpu} (a dry run where there is no GPU); {@code --skip-slices}, {@code
 * --skip-timings}.
 */
public final class GpuCheck {
  static final double TOLERANCE = 1e-4;
  private static final String[] STAGES = {
    CudaFeaturizer.UPLOAD,
    CudaFeaturizer.FORWARD,
    CudaFeaturizer.BACKWARD,
    CudaFeaturizer.GRADIENTS,
    CudaFeaturizer.GENERATE,
    CudaFeaturizer.PROJECTION,
    CudaFeaturizer.KERNEL,
    CudaFeaturizer.DOWNLOAD
  };

  private final Args args;
  private final Path bundle;
  private final PrintStream out;
  private final Map<String, Object> json = new LinkedHashMap<>();
  private final boolean emulated;
  private final int repeats;
  private boolean agreed = true;
  private Gpu gpu;

  GpuCheck(Args args, PrintStream out) {
    this.args = args;
    this.out = out;
    this.bundle = Path.of(args.get("bundle", null));
    this.emulated = args.flag("emulated");
    this.repeats = Integer.parseInt(args.get("repeats", "3"));
  }

  public static void main(String[] argv) throws Exception {
    System.exit(new GpuCheck(new Args(argv), System.out).run());
  }

  int run() throws Exception {
    long t0 = System.nanoTime();
    Properties meta = Bundle.meta(bundle);
    Architecture arch = Bundle.architecture(meta);
    int k = Integer.parseInt(meta.getProperty("k"));
    int timedRows = Integer.parseInt(args.get("rows", meta.getProperty("trainRows")));
    int targetRows = Integer.parseInt(args.get("targets", meta.getProperty("targets")));
    Bundle.Images train =
        Bundle.readIdx(
            bundle.resolve(Bundle.TRAIN_IMAGES),
            bundle.resolve(Bundle.TRAIN_LABELS),
            Integer.parseInt(meta.getProperty("trainRows")));
    Bundle.Images targets =
        Bundle.readIdx(
            bundle.resolve(Bundle.TARGET_IMAGES),
            bundle.resolve(Bundle.TARGET_LABELS),
            Integer.parseInt(meta.getProperty("targets")));
    float[] params = Bundle.readFloats(bundle.resolve(Bundle.MODEL));
    refsCache = Bundle.Entries.read(bundle.resolve(Bundle.REFERENCES));
    double readSecs = secs(t0);
    out.printf(
        "== ggda gpu-check%njava %s; bundle %s: %s, p = %,d, k = %,d, %,d train rows, %,d targets (read in %.1f s)%n",
        System.getProperty("java.version"),
        bundle,
        arch,
        arch.paramCount(),
        k,
        train.rows(),
        targets.rows(),
        readSecs);
    json.put("java", System.getProperty("java.version"));
    json.put(
        "workload",
        map(
            "architecture",
            arch.toString(),
            "params",
            arch.paramCount(),
            "k",
            k,
            "trainRows",
            train.rows(),
            "timedRows",
            timedRows,
            "targets",
            targetRows));

    t0 = System.nanoTime();
    gpu = openGpu();
    long[] memory = gpu.memory();
    String kernels = gpu instanceof CudaGpu c ? c.kernelOrigin() : "Java emulation";
    double openSecs = secs(t0);
    out.printf(
        "device %s, %.1f GiB (%.1f free); kernels: %s; opened in %.1f s%n",
        gpu.describe(), memory[1] / 1073741824.0, memory[0] / 1073741824.0, kernels, openSecs);
    json.put("device", gpu.describe());
    json.put("kernels", kernels);
    json.put("setupSeconds", map("readBundle", readSecs, "openDevice", openSecs));

    List<Featurizer.Slot> slot = List.of(new Featurizer.Slot(0, 0, params));
    agreement(arch, k, slot, train, targets);
    if (!args.flag("skip-timings")) {
      timings(
          arch,
          k,
          slot,
          train,
          targets,
          Math.min(timedRows, train.rows()),
          Math.min(targetRows, targets.rows()));
    }
    json.put("agreementOk", agreed);
    out.printf(
        "%n== %s%n", agreed ? "agreement: all checks passed" : "agreement: FAILED (see above)");
    String dir = args.get("out", System.getenv("OUT") == null ? "" : System.getenv("OUT"));
    if (!dir.isEmpty()) {
      Files.createDirectories(Path.of(dir));
      Files.writeString(Path.of(dir, "gpu-check.json"), Json.write(json) + "\n");
      out.println("wrote " + Path.of(dir, "gpu-check.json"));
    }
    gpu.close();
    return agreed ? 0 : 1;
  }

  private Gpu openGpu() {
    CudaDevices.Probe probe = CudaDevices.probe();
    out.println("CUDA: " + probe.detail());
    if (emulated) {
      return new EmulatedGpu();
    }
    if (!probe.available()) {
      throw new IllegalStateException("no CUDA device can be used: " + probe.detail());
    }
    try {
      return new CudaGpu(0);
    } catch (LinkageError | RuntimeException e) {
      Path ptx = bundle.resolve(Bundle.PTX);
      if (System.getProperty(CudaGpu.PTX_PROPERTY) != null || !Files.exists(ptx)) {
        throw e;
      }
      out.println(
          "compiling the kernels with NVRTC failed ("
              + CudaDevices.rootMessage(e)
              + "); loading the bundle's PTX");
      System.setProperty(CudaGpu.PTX_PROPERTY, ptx.toString());
      return new CudaGpu(0);
    }
  }

  // ---- agreement

  private void agreement(
      Architecture arch,
      int k,
      List<Featurizer.Slot> slot,
      Bundle.Images train,
      Bundle.Images targets) {
    out.printf("%n== agreement: cuda against the CPU backend (allowed %.0e relative)%n", TOLERANCE);
    List<Object> results = new ArrayList<>();
    json.put("agreement", results);

    List<KernelTwins.Result> twins = KernelTwins.compare(gpu, new EmulatedGpu());
    long failed = twins.stream().filter(r -> !r.ok()).count();
    double worstTwin = 0;
    for (KernelTwins.Result r : twins) {
      if (!r.ok()) {
        out.println("  " + r);
      }
      worstTwin = Math.max(worstTwin, r.tolerance() == 0 ? r.error() : r.error() / r.tolerance());
    }
    record(
        "kernels against their Java twins (" + twins.size() + " operations, " + failed + " differ)",
        failed == 0,
        worstTwin,
        results);

    List<FeaturizeCases.Case> cases = FeaturizeCases.all();
    if (!refs().has("case.list") || refs().longs("case.list")[0] != Workloads.caseList(cases)) {
      throw new IllegalStateException(
          "the bundle was built for other featurize cases than this check's; rebuild it"
              + " (deploy/gpu-check build)");
    }
    for (int i = 0; i < cases.size(); i++) {
      FeaturizeCases.Case c = cases.get(i);
      try (CudaFeaturizer f = new CudaFeaturizer(gpu, c.options())) {
        Featurizer.Output got = f.featurize(c.arch(), c.slotList(), c.spec(), c.rows());
        Agreement.Report r = Agreement.outputs(refs().output("case." + i, c.slots()), got, c.k());
        record("case: " + c.name(), r.within(TOLERANCE), r.worst(), results);
      }
    }
    if (args.flag("skip-slices")) {
      return;
    }
    List<Workloads.Slice> slices = Workloads.slices(k, arch.paramCount(), train.rows());
    for (boolean split : new boolean[] {true, false}) {
      try (CudaFeaturizer f = new CudaFeaturizer(gpu, withSplit(options(), split))) {
        for (int i = 0; i < slices.size(); i++) {
          Workloads.Slice s = slices.get(i);
          Featurizer.Output got =
              f.featurize(
                  arch, slot, s.spec(), Workloads.rows(train, s.r0(), s.n(), s.groupSize()));
          int width = Featurizer.featureDim(arch, s.spec());
          Agreement.Report r =
              Agreement.outputs(refs().output("slice." + i, 1), sketched(got, width), width);
          record(
              "fmnist "
                  + s.name()
                  + (s.spec().projection() == ProjectionKind.RADEMACHER
                      ? split ? ", split tf32" : ", fp32"
                      : "")
                  + " ["
                  + r
                  + "]",
              r.within(TOLERANCE),
              r.worst(),
              results);
        }
        if (split) {
          double err = scoresError(f, arch, k, slot, train, targets, slices.get(0));
          record(
              "fmnist TRAK scores, "
                  + slices.get(0).n()
                  + " rows x "
                  + Workloads.SCORE_TARGETS
                  + " targets (device Cholesky)",
              err <= TOLERANCE,
              err,
              results);
        }
      }
    }
  }

  private Bundle.Entries refsCache;

  private Bundle.Entries refs() {
    if (refsCache == null) {
      try {
        refsCache = Bundle.Entries.read(bundle.resolve(Bundle.REFERENCES));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return refsCache;
  }

  /** The output with each kernel as the bundle stores it (its sketch when wide). */
  private static Featurizer.Output sketched(Featurizer.Output o, int k) {
    if (o.kernel() == null) {
      return o;
    }
    double[][] kernel = new double[o.kernel().length][];
    for (int s = 0; s < kernel.length; s++) {
      kernel[s] = Bundle.Entries.kernelOf(o.kernel()[s], k);
    }
    return new Featurizer.Output(
        o.groupIds(), o.sizes(), o.loss(), o.margin(), o.qSums(), kernel, o.kernelRows());
  }

  /**
   * TRAK scores of the slice solved on the device against the CPU's: the worst per-target relative
   * error.
   */
  private double scoresError(
      CudaFeaturizer f,
      Architecture arch,
      int k,
      List<Featurizer.Slot> slot,
      Bundle.Images train,
      Bundle.Images targets,
      Workloads.Slice s) {
    int t = Math.min(Workloads.SCORE_TARGETS, targets.rows());
    Featurizer.Output rows =
        f.featurize(arch, slot, s.spec(), Workloads.rows(train, s.r0(), s.n(), s.groupSize()));
    Featurizer.Output tg =
        f.featurize(arch, slot, Workloads.targetSpec(s.spec()), Workloads.rows(targets, 0, t, 1));
    float[] scores = trakScores(rows, tg, k, s.n(), t).scores;
    double[] expected = refs().doubles("scores");
    double worst = 0;
    for (int c = 0; c < t; c++) {
      double num = 0;
      double den = 0;
      for (int r = 0; r < s.n(); r++) {
        double d = scores[r * t + c] - expected[r * t + c];
        num += d * d;
        den += expected[r * t + c] * expected[r * t + c];
      }
      worst = Math.max(worst, Math.sqrt(num) / Math.max(Math.sqrt(den), Double.MIN_NORMAL));
    }
    return Double.isNaN(worst) ? Double.POSITIVE_INFINITY : worst;
  }

  private void record(String what, boolean ok, double worst, List<Object> results) {
    out.printf("%-4s %-100s worst %.2e%n", ok ? "ok" : "FAIL", what, worst);
    results.add(map("check", what, "ok", ok, "worst", worst));
    agreed &= ok;
  }

  // ---- TRAK scores on the device

  /** Scores and the wall time of the solve and of the scoring. */
  private record Scored(float[] scores, double solveSeconds, double scoreSeconds) {}

  /**
   * TRAK scores as a ggda run forms them, on the device: v = -(K + lambda I)^-1 phi'^T (lambda =
   * relative damping 1: the kernel's mean eigenvalue), scores = loss features x v (float32).
   */
  private Scored trakScores(
      Featurizer.Output train, Featurizer.Output targetFeatures, int k, int n, int t) {
    long t0 = System.nanoTime();
    double[] kernel = train.kernel()[0];
    double lambda = Workloads.trace(kernel, k) / k;
    float[] phi = targetFeatures.margin()[0];
    double[] rhs = new double[k * t];
    for (int c = 0; c < t; c++) {
      for (int i = 0; i < k; i++) {
        rhs[i * t + c] = phi[c * k + i];
      }
    }
    float[] v = new float[k * t];
    try (DeviceCholesky chol = DeviceCholesky.factor(gpu, kernel, k, lambda)) {
      Gpu.Array b = gpu.alloc(Gpu.Type.DOUBLE, (long) k * t);
      gpu.upload(rhs, 0, rhs.length, b);
      Gpu.Array x = chol.solve(b, t);
      double[] solved = new double[k * t];
      gpu.download(x, solved, 0, solved.length);
      gpu.free(x);
      gpu.free(b);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) -solved[i];
      }
    }
    double solveSecs = secs(t0);
    t0 = System.nanoTime();
    Gpu.Array features = gpu.alloc(Gpu.Type.FLOAT, (long) n * k);
    gpu.upload(train.loss()[0], 0, n * k, features);
    Gpu.Array vd = gpu.alloc(Gpu.Type.FLOAT, (long) k * t);
    gpu.upload(v, 0, v.length, vd);
    Gpu.Array s = gpu.alloc(Gpu.Type.FLOAT, (long) n * t);
    gpu.gemm(false, false, n, t, k, 1f, features, k, vd, t, 0f, s, t, Gpu.Precision.FP32);
    float[] scores = new float[n * t];
    gpu.download(s, scores, 0, scores.length);
    gpu.free(features);
    gpu.free(vd);
    gpu.free(s);
    return new Scored(scores, solveSecs, secs(t0));
  }

  // ---- timings

  private CudaFeaturizer.Options options() {
    return CudaFeaturizer.Options.defaults();
  }

  private static CudaFeaturizer.Options withSplit(CudaFeaturizer.Options o, boolean split) {
    return new CudaFeaturizer.Options(
        o.passBytes(), o.groupedPassRows(), o.cacheBytes(), o.chunkBytes(), split);
  }

  private static CudaFeaturizer.Options withPassBytes(CudaFeaturizer.Options o, long passBytes) {
    return new CudaFeaturizer.Options(
        passBytes, o.groupedPassRows(), o.cacheBytes(), o.chunkBytes(), o.splitTf32());
  }

  private void timings(
      Architecture arch,
      int k,
      List<Featurizer.Slot> slot,
      Bundle.Images train,
      Bundle.Images targets,
      int n,
      int t) {
    out.printf(
        "%n== timings: %,d rows, k = %,d; best of %d after a warm-up call; stages from one more, profiled, call%n",
        n, k, repeats);
    List<Object> results = new ArrayList<>();
    json.put("timings", results);
    Map<String, Double> best = new LinkedHashMap<>();
    long p = arch.paramCount();
    ProjectionKind rademacher = ProjectionKind.RADEMACHER;
    Featurizer.Rows single = Workloads.rows(train, 0, n, 1);
    Featurizer.Rows groups = Workloads.rows(train, 0, n, 64);
    Featurizer.Spec features = Workloads.featuresOnly(rademacher, k, p);
    try (CudaFeaturizer f = new CudaFeaturizer(gpu, options());
        CudaFeaturizer fp32 = new CudaFeaturizer(gpu, withSplit(options(), false))) {
      best.put(
          "per-example",
          time(
              "per-example features (loss), split tf32", f, arch, slot, features, single, results));
      time("per-example features (loss), fp32", fp32, arch, slot, features, single, results);
      time(
          "per-example TRAK features (loss + margin + exact kernel), split tf32",
          f,
          arch,
          slot,
          Workloads.trak(rademacher, k, Featurizer.Moment.EXAMPLES, train.rows(), p),
          single,
          results);
      best.put(
          "groups64",
          time(
              "groups of 64 features (loss sums), split tf32",
              f,
              arch,
              slot,
              features,
              groups,
              results));
      time(
          "groups of 64 TRAK features (loss + margin sums + sampled kernel), split tf32",
          f,
          arch,
          slot,
          Workloads.trak(rademacher, k, Featurizer.Moment.SAMPLED_EXAMPLES, train.rows(), p),
          groups,
          results);
      for (long gib : new long[] {1, 4}) {
        try (CudaFeaturizer g = new CudaFeaturizer(gpu, withPassBytes(options(), gib << 30))) {
          time(
              "per-example features (loss), split tf32, " + gib + " GiB passes",
              g,
              arch,
              slot,
              features,
              single,
              results);
        }
      }
      best.put("trak-e2e", endToEnd(f, arch, k, slot, train, targets, n, t, results));
    }
    List<Object> verdicts = new ArrayList<>();
    json.put("targets", verdicts);
    out.println();
    for (String target : args.all("target")) {
      String[] kv = target.split("=");
      Double got = best.get(kv[0]);
      if (got == null) {
        throw new IllegalArgumentException(
            "--target " + target + ": unknown name; use one of " + best.keySet());
      }
      double limit = Double.parseDouble(kv[1]);
      boolean met = got <= limit;
      out.printf("target %-12s <= %.3f s: %.3f s, %s%n", kv[0], limit, got, met ? "met" : "MISSED");
      verdicts.add(map("name", kv[0], "limitSeconds", limit, "seconds", got, "met", met));
    }
  }

  /**
   * Best wall time of a featurize call (host arrays in, host arrays out), with its stages and
   * TFLOP/s.
   */
  private double time(
      String name,
      CudaFeaturizer f,
      Architecture arch,
      List<Featurizer.Slot> slot,
      Featurizer.Spec spec,
      Featurizer.Rows rows,
      List<Object> results) {
    CudaFeaturizer.Profile first = new CudaFeaturizer.Profile();
    f.profile(first);
    long t0 = System.nanoTime();
    f.featurize(arch, slot, spec, rows);
    double firstSecs = secs(t0);
    f.profile(null);
    double[] secs = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      t0 = System.nanoTime();
      f.featurize(arch, slot, spec, rows);
      secs[r] = secs(t0);
    }
    CudaFeaturizer.Profile prof = new CudaFeaturizer.Profile();
    f.profile(prof);
    t0 = System.nanoTime();
    f.featurize(arch, slot, spec, rows);
    double profiled = secs(t0);
    f.profile(null);
    double best = Arrays.stream(secs).min().orElse(Double.NaN);
    double projFlops = prof.flops.getOrDefault(CudaFeaturizer.PROJECTION, 0.0);
    double projSecs = prof.nanos.getOrDefault(CudaFeaturizer.PROJECTION, 0L) / 1e9;
    Map<String, Object> stages = new LinkedHashMap<>();
    StringBuilder line = new StringBuilder();
    for (String s : STAGES) {
      Long ns = prof.nanos.get(s);
      if (ns != null) {
        stages.put(s, ns / 1e9);
        line.append(String.format(Locale.ROOT, " %s %.3f", s, ns / 1e9));
      }
    }
    out.printf(
        "%-80s best %.3f s (runs %s; first call %.2f s, P generated %.3f s)%n",
        name,
        best,
        fmt(secs),
        firstSecs,
        first.nanos.getOrDefault(CudaFeaturizer.GENERATE, 0L) / 1e9);
    out.printf("    stages (profiled call %.3f s):%s%n", profiled, line);
    out.printf(
        "    projection %.1f TFLOP/s in its stage, %.1f TFLOP/s over the best call (%.2f TFLOP); %s%n",
        projFlops / Math.max(projSecs, 1e-12) / 1e12,
        projFlops / best / 1e12,
        projFlops / 1e12,
        rowsText(rows));
    results.add(
        map(
            "name",
            name,
            "rows",
            rows.rows(),
            "groups",
            rows.groups(),
            "bestSeconds",
            best,
            "seconds",
            secs,
            "firstCallSeconds",
            firstSecs,
            "profiledSeconds",
            profiled,
            "stages",
            stages,
            "projectionTflop",
            projFlops / 1e12,
            "projectionTflopsInStage",
            projFlops / Math.max(projSecs, 1e-12) / 1e12,
            "projectionTflopsOverall",
            projFlops / best / 1e12));
    return best;
  }

  private static String rowsText(Featurizer.Rows rows) {
    return String.format("%,d rows in %,d groups", rows.rows(), rows.groups());
  }

  /**
   * TRAK end to end without Spark: featurize the training rows (exact kernel) and the targets,
   * solve, score.
   */
  private double endToEnd(
      CudaFeaturizer f,
      Architecture arch,
      int k,
      List<Featurizer.Slot> slot,
      Bundle.Images train,
      Bundle.Images targets,
      int n,
      int t,
      List<Object> results) {
    Featurizer.Spec spec =
        Workloads.trak(
            ProjectionKind.RADEMACHER,
            k,
            Featurizer.Moment.EXAMPLES,
            train.rows(),
            arch.paramCount());
    Featurizer.Rows rows = Workloads.rows(train, 0, n, 1);
    Featurizer.Rows targetRows = Workloads.rows(targets, 0, t, 1);
    double best = Double.POSITIVE_INFINITY;
    double[] bestStages = null;
    for (int r = 0; r <= repeats; r++) {
      long t0 = System.nanoTime();
      Featurizer.Output features = f.featurize(arch, slot, spec, rows);
      double featurize = secs(t0);
      long t1 = System.nanoTime();
      Featurizer.Output tf = f.featurize(arch, slot, Workloads.targetSpec(spec), targetRows);
      double targetSecs = secs(t1);
      Scored s = trakScores(features, tf, k, n, t);
      double total = secs(t0);
      if (r > 0 && total < best) {
        best = total;
        bestStages = new double[] {featurize, targetSecs, s.solveSeconds, s.scoreSeconds};
      }
      if (r == repeats && !finite(s.scores)) {
        out.println("FAIL TRAK scores are not all finite");
        agreed = false;
      }
    }
    out.printf(
        "%-80s best %.3f s: featurize %.3f, targets %.3f, solve %.3f, scores %.3f (%,d x %,d)%n",
        "TRAK end to end (featurize + exact kernel + targets + solve + scores)",
        best,
        bestStages[0],
        bestStages[1],
        bestStages[2],
        bestStages[3],
        n,
        t);
    results.add(
        map(
            "name",
            "TRAK end to end",
            "rows",
            n,
            "targets",
            t,
            "bestSeconds",
            best,
            "stages",
            map(
                "featurize",
                bestStages[0],
                "targets",
                bestStages[1],
                "solve",
                bestStages[2],
                "scores",
                bestStages[3])));
    return best;
  }

  private static boolean finite(float[] v) {
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  private static String fmt(double[] v) {
    StringBuilder b = new StringBuilder();
    for (double x : v) {
      b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", x));
    }
    return b.toString();
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
