package dev.ggda.gpucheck;

import dev.ggda.config.ActivationKind;
import dev.ggda.config.LrSchedule;
import dev.ggda.config.TrainConfig;
import dev.ggda.config.TrainMode;
import dev.ggda.cuda.FeaturizeCases;
import dev.ggda.math.Architecture;
import dev.ggda.math.CholeskySolver;
import dev.ggda.math.Featurizer;
import dev.ggda.model.TrainedModel;
import dev.ggda.training.LocalTrainer;
import dev.ggda.training.TrainingData;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * deploy/gpu-check build, the part that needs ND4J: trains the workload's MLP on Fashion-MNIST and
 * writes the bundle the GPU host checks against (see {@link Bundle}): the CPU backend's outputs on
 * every {@link FeaturizeCases} case and on slices of the workload ({@link Workloads#slices}), and
 * TRAK scores of one slice solved with LAPACK.
 *
 * <p>Arguments: {@code --data DIR} (the four Fashion-MNIST IDX .gz files), {@code --out DIR}, and
 * optionally {@code --hidden 128 --k 2048 --epochs 1 --train-rows 60000 --targets 1000}.
 */
public final class BundleBuilder {
  private BundleBuilder() {}

  public static void main(String[] args) throws Exception {
    Args a = new Args(args);
    Path data = Path.of(a.get("data", "/usr/share/datasets/fashion-mnist"));
    Path out = Path.of(a.get("out", null));
    int hidden = Integer.parseInt(a.get("hidden", "128"));
    int k = Integer.parseInt(a.get("k", "2048"));
    int epochs = Integer.parseInt(a.get("epochs", "1"));
    int trainLimit = Integer.parseInt(a.get("train-rows", "60000"));
    int targetCount = Integer.parseInt(a.get("targets", "1000"));
    build(data, out, hidden, k, epochs, trainLimit, targetCount);
  }

  static void build(
      Path data, Path out, int hidden, int k, int epochs, int trainLimit, int targetCount)
      throws Exception {
    Files.createDirectories(out);
    long t0 = System.nanoTime();
    Path trainImages = data.resolve(Bundle.TRAIN_IMAGES);
    Path trainLabels = data.resolve(Bundle.TRAIN_LABELS);
    Bundle.Images train = Bundle.readIdx(trainImages, trainLabels, trainLimit);
    Bundle.Images test =
        Bundle.readIdx(
            data.resolve("t10k-images-idx3-ubyte.gz"),
            data.resolve("t10k-labels-idx1-ubyte.gz"),
            targetCount);
    Architecture arch = new Architecture(train.dim(), new int[] {hidden}, 10, ActivationKind.RELU);
    System.out.printf(
        "read %,d train and %,d target rows (%.1f s)%n", train.rows(), test.rows(), secs(t0));

    t0 = System.nanoTime();
    TrainConfig tc =
        new TrainConfig(epochs, 256, 0.1, LrSchedule.CONSTANT, 1, 1, 1.0, 0, TrainMode.LOCAL);
    TrainedModel model =
        new LocalTrainer(arch, tc, 1e-4)
            .train(new TrainingData(train.x(), train.y(), train.dim()), null);
    float[] params = model.finalCheckpoint(0).params();
    System.out.printf("trained %s for %d epoch(s) (%.1f s)%n", arch, epochs, secs(t0));

    if (train.rows() == countOf(trainImages)) {
      Bundle.copy(trainImages, out.resolve(Bundle.TRAIN_IMAGES));
      Bundle.copy(trainLabels, out.resolve(Bundle.TRAIN_LABELS));
    } else {
      Bundle.writeIdx(
          train, train.rows(), out.resolve(Bundle.TRAIN_IMAGES), out.resolve(Bundle.TRAIN_LABELS));
    }
    Bundle.writeIdx(
        test, test.rows(), out.resolve(Bundle.TARGET_IMAGES), out.resolve(Bundle.TARGET_LABELS));
    Bundle.writeFloats(out.resolve(Bundle.MODEL), params);
    Properties meta = new Properties();
    meta.setProperty("input", String.valueOf(arch.inputDim()));
    meta.setProperty("hidden", String.valueOf(hidden));
    meta.setProperty("classes", String.valueOf(arch.classes()));
    meta.setProperty("activation", arch.activation().name());
    meta.setProperty("k", String.valueOf(k));
    meta.setProperty("trainRows", String.valueOf(train.rows()));
    meta.setProperty("targets", String.valueOf(test.rows()));
    meta.setProperty("epochs", String.valueOf(epochs));
    try (OutputStream o = Files.newOutputStream(out.resolve(Bundle.META))) {
      meta.store(o, "deploy/gpu-check bundle");
    }

    Bundle.Entries refs = new Bundle.Entries();
    t0 = System.nanoTime();
    List<FeaturizeCases.Case> cases = FeaturizeCases.all();
    for (int i = 0; i < cases.size(); i++) {
      FeaturizeCases.Case c = cases.get(i);
      refs.putOutput(
          "case." + i, Featurizer.CPU.featurize(c.arch(), c.slotList(), c.spec(), c.rows()), c.k());
    }
    refs.put("case.list", new long[] {Workloads.caseList(cases)});
    System.out.printf("CPU outputs of %d featurize cases (%.1f s)%n", cases.size(), secs(t0));

    List<Featurizer.Slot> slot = List.of(new Featurizer.Slot(0, 0, params));
    List<Workloads.Slice> slices = Workloads.slices(k, arch.paramCount(), train.rows());
    Featurizer.Output perExample = null;
    for (int i = 0; i < slices.size(); i++) {
      Workloads.Slice s = slices.get(i);
      t0 = System.nanoTime();
      Featurizer.Output o =
          Featurizer.CPU.featurize(
              arch, slot, s.spec(), Workloads.rows(train, s.r0(), s.n(), s.groupSize()));
      refs.putOutput("slice." + i, o, Featurizer.featureDim(arch, s.spec()));
      perExample = i == 0 ? o : perExample;
      System.out.printf("CPU slice %s: %d rows (%.1f s)%n", s.name(), s.n(), secs(t0));
    }

    // TRAK scores of the first slice's rows for the first targets, solved in float64 with LAPACK.
    t0 = System.nanoTime();
    int t = Math.min(Workloads.SCORE_TARGETS, test.rows());
    Featurizer.Spec targetSpec = Workloads.targetSpec(slices.get(0).spec());
    Featurizer.Output targets =
        Featurizer.CPU.featurize(arch, slot, targetSpec, Workloads.rows(test, 0, t, 1));
    double[] kernel = perExample.kernel()[0];
    double lambda = Workloads.trace(kernel, k) / k;
    double[] rhs = new double[k * t];
    for (int i = 0; i < rhs.length; i++) {
      rhs[i] = targets.margin()[0][i];
    }
    double[] x = CholeskySolver.factor(kernel, k, lambda).solve(rhs, t);
    int n = slices.get(0).n();
    double[] scores = new double[n * t];
    float[] loss = perExample.loss()[0];
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < t; c++) {
        double s = 0;
        for (int i = 0; i < k; i++) {
          s -= loss[r * k + i] * x[c * k + i];
        }
        scores[r * t + c] = s;
      }
    }
    refs.put("scores", scores);
    refs.put("scores.lambda", new double[] {lambda});
    refs.write(out.resolve(Bundle.REFERENCES));
    System.out.printf(
        "CPU TRAK scores of %d rows x %d targets (%.1f s); references %.1f MB%n",
        n, t, secs(t0), Files.size(out.resolve(Bundle.REFERENCES)) / 1e6);
  }

  private static int countOf(Path images) throws java.io.IOException {
    try (java.io.DataInputStream in =
        new java.io.DataInputStream(
            new java.util.zip.GZIPInputStream(Files.newInputStream(images)))) {
      in.readInt();
      return in.readInt();
    }
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
