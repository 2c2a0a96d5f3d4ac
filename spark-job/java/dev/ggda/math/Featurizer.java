package dev.ggda.math;

import dev.ggda.config.ProjectionKind;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Featurizes a block of whole groups (DESIGN.md section 5, step 4): for every model slot (member x
 * checkpoint) one batched forward/backward per pass of rows, the per-group gradient sums stacked
 * and projected together, and the kernel contribution TRAK needs. Spark-free; the Spark stage feeds
 * it blocks whose composition depends only on group ids, so results do not depend on partitioning.
 *
 * <p>Outputs per group and slot: {@code loss} = P^T g_G (g_G = sum of loss gradients; TRAK's psi_G
 * is its negative) and, when asked, {@code margin} = P^T sum_i grad f_i (TRAK's chi_G).
 */
public final class Featurizer {

  /**
   * The k x k second-moment matrix featurize sums beside the features, from which the driver builds
   * the matrix it inverts (TRAK's kernel, IF's projected Gauss-Newton matrix).
   */
  public enum Moment {
    /** Nothing (TracIn, GradDot, IF in parameter space). */
    NONE,
    /** sum_i phi_i phi_i^T over every example's projected margin gradient (TRAK's exact kernel). */
    EXAMPLES,
    /**
     * The same over a seeded sample of the examples (TRAK's sampled kernel, scaled up on the
     * driver).
     */
    SAMPLED_EXAMPLES,
    /**
     * sum_G chi_G chi_G^T / |G| over the groups' summed margin gradients (TRAK's batched kernel).
     */
    GROUP_SUMS,
    /**
     * sum_i sum_c (P^T v_ic)(P^T v_ic)^T, v_ic the backward of sqrt(p_c)(e_c - p): P^T J^T Lambda J
     * P.
     */
    GAUSS_NEWTON,
    /**
     * sum_G |G| / (sum_{i in G} Q_i)^2 psi_G psi_G^T over the groups' own loss rows (TRAK's group
     * kernel): exactly the EXAMPLES kernel when every group has one member, since psi_i = Q_i
     * phi_i; for a group whose members share one margin gradient it is their exact contribution.
     */
    GROUP_ROWS,
    /**
     * sum_G g_G g_G^T / |G| over the groups' loss-gradient sums (IF's group Hessian, the batched
     * empirical Fisher): at one member per group, sum_i g_i g_i^T, whose expectation over labels
     * drawn from the model is the Gauss-Newton matrix.
     */
    GROUP_FISHER;

    /** Moments summed from the groups' own loss rows after projection: no per-example work. */
    public boolean fromGroupRows() {
      return this == GROUP_ROWS || this == GROUP_FISHER;
    }
  }

  /**
   * @param marginSums also compute chi_G (TRAK)
   * @param moment which k x k second-moment matrix to sum
   * @param sampleFraction SAMPLED: fraction of examples in the kernel
   * @param sampleSeed SAMPLED: seed of the per-example inclusion draw
   * @param passRows rows per forward/backward pass (bigger groups are chunked and summed)
   */
  public record Spec(
      ProjectionKind projection,
      int dim,
      long seed,
      boolean marginSums,
      Moment moment,
      double sampleFraction,
      long sampleSeed,
      int passRows)
      implements java.io.Serializable {
    /** The same spec with or without the margin sums. */
    public Spec withMarginSums(boolean sums) {
      return new Spec(projection, dim, seed, sums, moment, sampleFraction, sampleSeed, passRows);
    }
  }

  /** One model to featurize under: ensemble member, checkpoint index and its parameters. */
  public record Slot(int member, int checkpoint, float[] params) {}

  /**
   * Rows of whole groups, ordered by group: group j is rows [starts[j], starts[j+1]).
   *
   * @param x row-major features (rows x dim)
   */
  public record Rows(
      float[] x, int[] y, long[] exampleIds, int dim, long[] groupIds, int[] starts) {
    public int groups() {
      return groupIds.length;
    }

    public int rows() {
      return y.length;
    }
  }

  /**
   * Per slot s: loss[s] and margin[s] are (groups x k) row-major; qSums[s] holds each group's sum
   * of Q_i = 1 - p_y (TRAK's group kernel only, else null); kernel[s] is k x k (or null);
   * kernelRows[s] counts the examples the kernel summed (exact/sampled) or the groups (batched,
   * group rows).
   */
  public record Output(
      long[] groupIds,
      int[] sizes,
      float[][] loss,
      float[][] margin,
      float[][] qSums,
      double[][] kernel,
      long[] kernelRows) {}

  /**
   * Whether featurize reports the groups' Q sums: only TRAK's group kernel reads them (other TRAK
   * kernels keep the margin rows instead).
   */
  public static boolean wantsQSums(Spec spec) {
    return spec.moment() == Moment.GROUP_ROWS;
  }

  /**
   * A moment summed from the groups' projected rows (m x k row-major): L^T diag(w) L with w as
   * {@link Moment#GROUP_ROWS} or {@link Moment#GROUP_FISHER} define it over the loss rows, or
   * {@link Moment#GROUP_SUMS} over the margin rows. A group whose Q sum is zero (a float-saturated
   * prediction) has a zero loss row and adds nothing.
   */
  public static double[] groupMoment(
      Moment moment, float[] loss, int m, int k, int[] sizes, float[] qSums) {
    float[] scaled = new float[m * k];
    for (int j = 0; j < m; j++) {
      double w =
          switch (moment) {
            case GROUP_ROWS -> qSums[j] > 0 ? sizes[j] / ((double) qSums[j] * qSums[j]) : 0;
            case GROUP_FISHER, GROUP_SUMS -> 1.0 / sizes[j];
            default ->
                throw new IllegalArgumentException(moment + " is not summed from group rows");
          };
      float root = (float) Math.sqrt(w);
      for (int c = 0; c < k; c++) {
        scaled[j * k + c] = loss[j * k + c] * root;
      }
    }
    INDArray a = Flat.matrix(scaled, 0, m, k);
    return Flat.doubles(a.transpose().mmul(a).castTo(DataType.DOUBLE));
  }

  /** Rows per forward/backward pass of the grouped path when no per-example rows are formed. */
  public static final int GROUPED_PASS_ROWS = 2048;

  /** The CPU backend: {@link #featurize} on ND4J. */
  public static final FeaturizeBackend CPU =
      new FeaturizeBackend() {
        @Override
        public Output featurize(Architecture arch, List<Slot> slots, Spec spec, Rows rows) {
          return Featurizer.featurize(arch, slots, spec, rows);
        }

        @Override
        public String device() {
          return "cpu";
        }
      };

  private Featurizer() {}

  /**
   * k: the feature width a spec gives for an architecture (p without projection; the factored
   * projection's own width, at most the requested one).
   */
  public static int featureDim(Architecture arch, Spec spec) {
    return switch (spec.projection()) {
      case NONE -> Math.toIntExact(arch.paramCount());
      case FACTORED -> new FactoredProjection(arch, spec.dim(), spec.seed(), 0, 0).dim();
      default -> spec.dim();
    };
  }

  /** Group sizes of a block of rows; every group must have a row. */
  public static int[] sizes(Rows rows) {
    int m = rows.groups();
    int[] sizes = new int[m];
    for (int j = 0; j < m; j++) {
      sizes[j] = rows.starts()[j + 1] - rows.starts()[j];
      if (sizes[j] == 0) {
        throw new IllegalArgumentException("group " + rows.groupIds()[j] + " is empty");
      }
    }
    return sizes;
  }

  public static Output featurize(Architecture arch, List<Slot> slots, Spec spec, Rows rows) {
    int[] sizes = sizes(rows);
    boolean allSingle = java.util.Arrays.stream(sizes).allMatch(v -> v == 1);
    int s = slots.size();
    float[][] loss = new float[s][];
    float[][] margin = spec.marginSums() ? new float[s][] : null;
    float[][] qSums = wantsQSums(spec) ? new float[s][] : null;
    double[][] kernel = spec.moment() == Moment.NONE ? null : new double[s][];
    long[] kernelRows = new long[s];
    for (int si = 0; si < s; si++) {
      Slot slot = slots.get(si);
      Network net = Network.fromFloats(arch, slot.params());
      GradientSketch proj =
          GradientSketch.of(
              arch, spec.projection(), spec.dim(), spec.seed(), slot.member(), slot.checkpoint());
      SlotResult r =
          allSingle ? perExample(net, proj, spec, rows) : grouped(net, proj, spec, rows, sizes);
      loss[si] = r.loss;
      if (margin != null) {
        margin[si] = r.margin;
      }
      if (qSums != null) {
        qSums[si] = r.qSums;
      }
      if (kernel != null && spec.moment().fromGroupRows()) {
        kernel[si] = groupMoment(spec.moment(), r.loss, rows.groups(), proj.dim(), sizes, r.qSums);
        kernelRows[si] = rows.groups();
      } else if (kernel != null) {
        kernel[si] = r.kernel;
        kernelRows[si] = r.kernelRows;
      }
    }
    return new Output(rows.groupIds().clone(), sizes, loss, margin, qSums, kernel, kernelRows);
  }

  private record SlotResult(
      float[] loss, float[] margin, float[] qSums, double[] kernel, long kernelRows) {}

  /**
   * Groups of one example: one backward of the margin gives the per-example features phi_i; the
   * loss-gradient features follow exactly as -Q_i phi_i (dl/df = -(1 - p_y)), so the projection
   * GEMM runs once. This is the per-example baseline, batched and vectorised.
   */
  private static SlotResult perExample(Network net, GradientSketch proj, Spec spec, Rows rows) {
    int n = rows.rows();
    int k = proj.dim();
    float[] loss = new float[n * k];
    float[] margin = spec.marginSums() ? new float[n * k] : null;
    float[] qSums = wantsQSums(spec) ? new float[n] : null;
    INDArray kernel = perExampleMoment(spec) ? Nd4j.zeros(DataType.DOUBLE, k, k) : null;
    long kernelRows = 0;
    for (int r0 = 0; r0 < n; r0 += spec.passRows()) {
      int r1 = Math.min(n, r0 + spec.passRows());
      int[] y = java.util.Arrays.copyOfRange(rows.y(), r0, r1);
      Network.ForwardPass fp = net.forward(batch(rows, r0, r1));
      INDArray logits = fp.logits();
      INDArray phi = proj.perExample(net.backward(fp, Losses.marginGradient(logits, y), false));
      INDArray q = Losses.oneMinusTrueProbability(logits, y).reshape(-1, 1);
      INDArray psi = phi.mulColumnVector(q).negi();
      copyRows(psi, loss, r0, k);
      if (margin != null) {
        copyRows(phi, margin, r0, k);
      }
      if (qSums != null) {
        System.arraycopy(Flat.floats(q), 0, qSums, r0, r1 - r0);
      }
      if (kernel == null) {
        continue;
      }
      if (spec.moment() == Moment.GAUSS_NEWTON) {
        kernelRows += gaussNewton(net, proj, fp, y, kernel);
      } else {
        INDArray used =
            spec.moment() == Moment.SAMPLED_EXAMPLES ? sampledRows(phi, rows, r0, r1, spec) : phi;
        if (used != null) {
          kernel.addi(used.transpose().mmul(used).castTo(DataType.DOUBLE));
          kernelRows += used.rows();
        }
      }
    }
    return new SlotResult(
        loss, margin, qSums, kernel == null ? null : Flat.doubles(kernel), kernelRows);
  }

  /** Whether the moment is summed pass by pass (not from the group rows afterwards). */
  private static boolean perExampleMoment(Spec spec) {
    return spec.moment() != Moment.NONE && !spec.moment().fromGroupRows();
  }

  private static SlotResult grouped(
      Network net, GradientSketch proj, Spec spec, Rows rows, int[] sizes) {
    Architecture arch = net.architecture();
    int m = rows.groups();
    int k = proj.dim();
    long p = proj.rowWidth();
    boolean withMargin = spec.marginSums() || spec.moment() == Moment.GROUP_SUMS;
    // Stacked [loss sums; margin sums] (m or 2m x p), projected by one GEMM at the end.
    INDArray stacked = Nd4j.zeros(DataType.FLOAT, withMargin ? 2L * m : m, p);
    float[] qSums = wantsQSums(spec) ? new float[m] : null;
    INDArray kernel = perExampleMoment(spec) ? Nd4j.zeros(DataType.DOUBLE, k, k) : null;
    long kernelRows = 0;
    // Without per-example rows (exact, sampled or Gauss-Newton kernels materialise them) a pass
    // holds
    // only activations, so it can be much longer than the per-example pass: fewer, bigger ops.
    boolean perExampleRows =
        spec.moment() == Moment.EXAMPLES
            || spec.moment() == Moment.SAMPLED_EXAMPLES
            || spec.moment() == Moment.GAUSS_NEWTON;
    int passRows = perExampleRows ? spec.passRows() : Math.max(spec.passRows(), GROUPED_PASS_ROWS);
    Segments seg = Segments.of(rows.starts(), passRows);
    for (int[] pass : seg.passes(passRows)) {
      int s0 = pass[0];
      int s1 = pass[1];
      int r0 = seg.start[s0];
      int r1 = seg.start[s1];
      int[] y = java.util.Arrays.copyOfRange(rows.y(), r0, r1);
      int[] local = new int[s1 - s0 + 1];
      for (int j = s0; j <= s1; j++) {
        local[j - s0] = seg.start[j] - r0;
      }
      int[] lossRow = new int[s1 - s0];
      int[] marginRow = new int[s1 - s0];
      for (int j = s0; j < s1; j++) {
        lossRow[j - s0] = seg.group[j];
        marginRow[j - s0] = m + seg.group[j];
      }
      Network.ForwardPass fp = net.forward(batch(rows, r0, r1));
      INDArray logits = fp.logits();
      if (spec.moment() == Moment.GAUSS_NEWTON) {
        kernelRows += gaussNewton(net, proj, fp, y, kernel);
      }
      boolean needMargin =
          withMargin
              || spec.moment() == Moment.EXAMPLES
              || spec.moment() == Moment.SAMPLED_EXAMPLES;
      INDArray q = qSums != null || needMargin ? Losses.oneMinusTrueProbability(logits, y) : null;
      if (qSums != null) {
        addSegmentSums(Flat.floats(q), local, lossRow, qSums);
      }
      if (!needMargin) {
        proj.addGroupRows(
            net.backward(fp, Losses.crossEntropyGradient(logits, y), false),
            local,
            stacked,
            lossRow);
      } else {
        // One backward pass serves both sums: the loss is a function of the margin alone
        // (l = softplus(-f)), so each example's loss gradient is -Q_i times its margin gradient.
        BatchGradient mg = net.backward(fp, Losses.marginGradient(logits, y), false);
        INDArray negQ = q.reshape(-1, 1).neg();
        proj.addGroupRows(mg.scaled(negQ), local, stacked, lossRow);
        if (withMargin) {
          proj.addGroupRows(mg, local, stacked, marginRow);
        }
        if (spec.moment() == Moment.EXAMPLES || spec.moment() == Moment.SAMPLED_EXAMPLES) {
          // The sampled kernel projects only the sampled examples' gradients (about 10,000 in all),
          // not the whole pass: per-example rows are the expensive part of featurize.
          int[] sample =
              spec.moment() == Moment.SAMPLED_EXAMPLES ? sampledIndices(rows, r0, r1, spec) : null;
          INDArray used =
              spec.moment() == Moment.EXAMPLES
                  ? proj.perExample(mg)
                  : sample.length == 0 ? null : proj.perExample(mg.rows(sample));
          if (used != null) {
            kernel.addi(used.transpose().mmul(used).castTo(DataType.DOUBLE));
            kernelRows += used.rows();
          }
        }
      }
    }
    INDArray projected = proj.finish(stacked);
    float[] loss = Flat.floats(projected.get(NDArrayIndex.interval(0, m), NDArrayIndex.all()));
    float[] margin = null;
    if (withMargin) {
      INDArray chi = projected.get(NDArrayIndex.interval(m, 2L * m), NDArrayIndex.all()).dup('c');
      if (spec.marginSums()) {
        margin = Flat.floats(chi);
      }
      if (spec.moment() == Moment.GROUP_SUMS) {
        // sum_G (1/|G|) chi_G chi_G^T = chi^T diag(1/|G|) chi
        INDArray inv =
            Nd4j.create(java.util.Arrays.stream(sizes).mapToDouble(v -> 1.0 / v).toArray())
                .reshape(-1, 1);
        INDArray chiD = chi.castTo(DataType.DOUBLE);
        kernel.addi(chiD.transpose().mmul(chiD.mulColumnVector(inv)));
        kernelRows += m;
      }
    }
    return new SlotResult(
        loss, margin, qSums, kernel == null ? null : Flat.doubles(kernel), kernelRows);
  }

  /**
   * Adds each segment's sum of a per-row value of a pass: rows [local[j], local[j+1]) go to
   * out[target[j]].
   */
  public static void addSegmentSums(float[] values, int[] local, int[] target, float[] out) {
    for (int j = 0; j < target.length; j++) {
      double sum = 0;
      for (int r = local[j]; r < local[j + 1]; r++) {
        sum += values[r];
      }
      out[target[j]] += (float) sum;
    }
  }

  /**
   * Adds P^T (sum_i J_i^T Lambda_i J_i) P for a pass, using Lambda = sum_c p_c (e_c - p)(e_c -
   * p)^T: one backward per class. Returns the number of examples added.
   */
  private static long gaussNewton(
      Network net, GradientSketch proj, Network.ForwardPass fp, int[] y, INDArray kernel) {
    INDArray p = Losses.softmax(fp.logits());
    int classes = (int) p.columns();
    for (int c = 0; c < classes; c++) {
      INDArray e = Nd4j.zeros(p.dataType(), p.rows(), classes);
      e.getColumn(c).assign(1.0);
      INDArray dLogits =
          e.subi(p)
              .muliColumnVector(
                  org.nd4j.linalg.ops.transforms.Transforms.sqrt(
                      p.getColumn(c).dup().reshape(-1, 1), false));
      INDArray v = proj.perExample(net.backward(fp, dLogits, false));
      kernel.addi(v.transpose().mmul(v).castTo(DataType.DOUBLE));
    }
    return y.length;
  }

  /** Rows of phi whose examples fall in the seeded kernel sample, or null when none does. */
  private static INDArray sampledRows(INDArray phi, Rows rows, int r0, int r1, Spec spec) {
    int[] keep = sampledIndices(rows, r0, r1, spec);
    return keep.length == 0 ? null : phi.getRows(keep);
  }

  /** Pass-relative indices of the rows r0..r1-1 whose examples fall in the seeded kernel sample. */
  public static int[] sampledIndices(Rows rows, int r0, int r1, Spec spec) {
    List<Integer> keep = new ArrayList<>();
    for (int i = r0; i < r1; i++) {
      if (Seeds.unit(Seeds.mix(spec.sampleSeed(), rows.exampleIds()[i])) < spec.sampleFraction()) {
        keep.add(i - r0);
      }
    }
    return keep.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * The groups cut into segments of at most passRows rows (a group larger than a pass is chunked
   * and its partial sums added), and consecutive segments packed into passes of at most passRows
   * rows.
   */
  public static final class Segments {
    final int[] group;
    final int[] start;

    private Segments(int[] group, int[] start) {
      this.group = group;
      this.start = start;
    }

    /** The group of segment s. */
    public int group(int s) {
      return group[s];
    }

    /** The first row of segment s (s = segments() gives the end of the last). */
    public int start(int s) {
      return start[s];
    }

    public int segments() {
      return group.length;
    }

    public static Segments of(int[] starts, int passRows) {
      List<int[]> segs = new ArrayList<>();
      for (int j = 0; j + 1 < starts.length; j++) {
        for (int r = starts[j]; r < starts[j + 1]; r += passRows) {
          segs.add(new int[] {j, r});
        }
      }
      int[] group = new int[segs.size()];
      int[] start = new int[segs.size() + 1];
      for (int i = 0; i < segs.size(); i++) {
        group[i] = segs.get(i)[0];
        start[i] = segs.get(i)[1];
      }
      start[segs.size()] = starts[starts.length - 1];
      return new Segments(group, start);
    }

    /** {s0, s1}: segments [s0, s1) form one pass. */
    public List<int[]> passes(int passRows) {
      List<int[]> out = new ArrayList<>();
      int n = group.length;
      int s0 = 0;
      while (s0 < n) {
        int s1 = s0 + 1;
        while (s1 < n && start[s1 + 1] - start[s0] <= passRows) {
          s1++;
        }
        out.add(new int[] {s0, s1});
        s0 = s1;
      }
      return out;
    }
  }

  private static INDArray batch(Rows rows, int r0, int r1) {
    int d = rows.dim();
    return Flat.matrix(rows.x(), r0 * d, r1 - r0, d);
  }

  private static void copyRows(INDArray src, float[] dst, int rowOffset, int k) {
    float[] v = Flat.floats(src);
    System.arraycopy(v, 0, dst, rowOffset * k, v.length);
  }
}
