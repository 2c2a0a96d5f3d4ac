package dev.ggda.harness;

import dev.ggda.attribution.AttributionStage;
import dev.ggda.attribution.ScoreStage;
import dev.ggda.attribution.StageClock;
import dev.ggda.attribution.TargetFeatures;
import dev.ggda.config.AttributeConfig;
import dev.ggda.config.AttributionMethod;
import dev.ggda.config.Damping;
import dev.ggda.config.GgdaConfig;
import dev.ggda.config.GridSpec;
import dev.ggda.config.GroupMethod;
import dev.ggda.config.HessianMode;
import dev.ggda.config.KernelMode;
import dev.ggda.config.ProjectionConfig;
import dev.ggda.evaluation.EvaluationStage;
import dev.ggda.grouping.GroupingStage;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.pipeline.Console;
import dev.ggda.pipeline.Pipeline;
import dev.ggda.pipeline.Runs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * `ggda evaluate --methods ... --groupings ... --group-sizes ...`: the efficiency-fidelity table.
 * One model; for each method, target features once (timed apart), then for each group size and
 * grouping: group, featurize + kernel + score (the attribution time), and the configured fidelity
 * checks. Group size 1 is per-example attribution whatever the grouping, so it is run once per
 * method (grouping "per-example") and is the baseline of that method's speedups. Retrainings that
 * do not depend on the attribution (LDS subsets, full-data and random-removal baselines) are shared
 * by all cells. With several projections (kind:dim) each method runs once per projection, with its
 * own target features and per-example baseline. With several dampings each (method, projection)
 * featurizes once per cell and only solves again per damping (hessian: cg, which solves inside
 * featurize, featurizes again); a damping's attribution time is then featurize + its own solve +
 * score. With several TRAK kernels or IF Hessians each is a variant of its own; the per-example row
 * of the first one listed is the speedup baseline of them all, and per-example TRAK, which uses the
 * exact kernel whatever is set, runs for the first kernel only. Each row splits its attribution
 * time into featurize (with the kernel or group-moment sums), solve (the driver's Hessian sum,
 * kernel and factorisation) and score.
 */
public final class FidelityGrid {
  static final StructType TABLE =
      new StructType()
          .add("method", DataTypes.StringType, false)
          .add("projection", DataTypes.StringType, false)
          .add("mode", DataTypes.StringType, false)
          .add("damping", DataTypes.StringType, false)
          .add("grouping", DataTypes.StringType, false)
          .add("group_size", DataTypes.IntegerType, false)
          .add("groups", DataTypes.LongType, false)
          .add("attribution_seconds", DataTypes.DoubleType, false)
          .add("speedup", DataTypes.DoubleType, true)
          .add("lds", DataTypes.DoubleType, true)
          .add("group_lds", DataTypes.DoubleType, true)
          .add("removal_effect", DataTypes.DoubleType, true)
          .add("random_removal_effect", DataTypes.DoubleType, true)
          .add("loo_pearson", DataTypes.DoubleType, true)
          .add("grouping_seconds", DataTypes.DoubleType, false)
          .add("target_seconds", DataTypes.DoubleType, false)
          .add("lds_one_run", DataTypes.DoubleType, true)
          .add("group_lds_one_run", DataTypes.DoubleType, true)
          .add("featurize_seconds", DataTypes.DoubleType, false)
          .add("solve_seconds", DataTypes.DoubleType, false)
          .add("score_seconds", DataTypes.DoubleType, false);

  private FidelityGrid() {}

  /**
   * One attribution setting of the table: a method with a projection, a kernel (TRAK) or Hessian
   * (IF), and a damping.
   */
  private record Variant(
      AttributionMethod method,
      ProjectionConfig projection,
      KernelMode kernel,
      HessianMode hessian,
      Damping damping) {
    String projectionName() {
      return name(projection.kind()) + ":" + projection.dim();
    }

    /** The kernel or Hessian this method reads, or "-". */
    String modeName() {
      return switch (method) {
        case TRAK -> "kernel " + name(kernel);
        case IF -> "hessian " + name(hessian);
        default -> "-";
      };
    }

    /** Variants with the same features: they differ in damping only. */
    Variant featureKey() {
      return new Variant(method, projection, kernel, hessian, null);
    }

    /** The variant whose per-example row is this one's speedup baseline. */
    Variant baselineKey(KernelMode firstKernel, HessianMode firstHessian) {
      return new Variant(method, projection, firstKernel, firstHessian, damping);
    }
  }

  public static void run(GgdaConfig config, GridSpec grid) {
    Pipeline.requireAllPairs(config);
    // Not keyed by the grid's cells: a resumed run with another grid still reuses the model and the
    // stored retrainings (each is keyed by its own rows and seed).
    Runs.execute(
        config,
        "evaluate-grid",
        (p, out) -> {
          p.obtainModel(out);
          grid(p, out, grid);
        });
  }

  /** The variants of a grid: every method x projection x its modes x damping. */
  private static List<Variant> variants(GridSpec grid) {
    List<Variant> out = new ArrayList<>();
    for (AttributionMethod method : grid.methods()) {
      List<KernelMode> kernels =
          method == AttributionMethod.TRAK ? grid.kernels() : List.of(grid.kernels().get(0));
      List<HessianMode> hessians =
          method == AttributionMethod.IF ? grid.hessians() : List.of(grid.hessians().get(0));
      for (ProjectionConfig projection : grid.projections()) {
        for (KernelMode kernel : kernels) {
          for (HessianMode hessian : hessians) {
            for (Damping damping : grid.dampings()) {
              out.add(new Variant(method, projection, kernel, hessian, damping));
            }
          }
        }
      }
    }
    return out;
  }

  private static void grid(Pipeline p, RunOutput out, GridSpec grid) {
    List<ProjectionConfig> projections = grid.projections();
    List<Damping> dampings = grid.dampings();
    List<GroupMethod> groupings = grid.groupings();
    List<Integer> sizes = grid.sizes();
    KernelMode firstKernel = grid.kernels().get(0);
    HessianMode firstHessian = grid.hessians().get(0);
    boolean severalModes = grid.kernels().size() > 1 || grid.hessians().size() > 1;
    GgdaConfig config = p.config();
    SparkSession spark = p.spark();
    Console console = p.console();
    EvaluationStage evaluation = p.evaluationStage(out);
    int partitions = Math.max(2, spark.sparkContext().defaultParallelism());
    long n = p.trainData().count();
    List<Row> rows = new ArrayList<>();
    List<Map<String, Object>> json = new ArrayList<>();
    List<Integer> ordered = new ArrayList<>(sizes); // size 1 first: the speedup baseline
    // Target features depend on the method only; groupings on the model only: each is computed
    // once.
    List<Variant> variants = variants(grid);
    Map<Variant, AttributionStage> stages = new LinkedHashMap<>();
    Map<Variant, TargetFeatures> targets = new LinkedHashMap<>();
    Map<Variant, Double> targetSeconds = new LinkedHashMap<>();
    Map<Variant, Double> baseline = new LinkedHashMap<>();
    for (Variant v : variants) {
      AttributeConfig ac = config.attribute();
      ac =
          new AttributeConfig(
              v.method(),
              v.projection(),
              v.kernel(),
              v.hessian(),
              v.damping().absolute(),
              ac.target(),
              v.damping().relative());
      // The fidelity checks read scores only: no self-influence (for per-example TRAK it cost more
      // than the scores).
      AttributionStage stage =
          new AttributionStage(ac, config.compute().device(), line -> console.info("%s", line))
              .withoutSelfInfluence();
      stages.put(v, stage);
      // Target features do not depend on the damping: computed once per (method, projection).
      TargetFeatures shared = targets.get(v.featureKey());
      if (shared == null) {
        long t0 = System.nanoTime();
        shared = stage.featurizeTargets(p.targetData(), p.model(), n, partitions);
        targets.put(v.featureKey(), shared);
        targetSeconds.put(v.featureKey(), secs(t0));
      }
    }
    Map<String, List<Row>> byMethod = new LinkedHashMap<>();
    for (int size : ordered) {
      List<GroupMethod> cells = size == 1 ? List.of(GroupMethod.RANDOM) : groupings;
      for (GroupMethod grouping : cells) {
        String groupingName = size == 1 ? "per-example" : name(grouping);
        GgdaConfig c = config.withGroup(config.group().with(grouping, size, null));
        long g0 = System.nanoTime();
        Groups groups = GroupingStage.assign(spark, c, p.trainData(), p.model());
        groups.assignment().cache().count();
        double groupSecs = secs(g0);
        AttributionStage.Prepared previous = null;
        AttributionStage previousStage = null;
        Variant previousVariant = null;
        double featurizeSecs = 0;
        for (int vi = 0; vi < variants.size(); vi++) {
          Variant v = variants.get(vi);
          if (size == 1 && v.method() == AttributionMethod.TRAK && v.kernel() != firstKernel) {
            continue; // per-example TRAK is the exact kernel whatever is set: run once
          }
          long a0 = System.nanoTime();
          TargetFeatures tf = targets.get(v.featureKey());
          StageClock clock = new StageClock();
          AttributionStage.Prepared prepared;
          boolean reused =
              previous != null
                  && previous.rebuildable()
                  && previousVariant.featureKey().equals(v.featureKey());
          if (reused) {
            console.info(
                "evaluate: damping %s: solving again on the same features", v.damping().label());
            prepared =
                previousStage
                    .timedBy(clock)
                    .withDamping(previous, v.damping().absolute(), v.damping().relative());
          } else {
            if (previous != null) {
              previous.blocks.unpersist(false);
            }
            previousStage = stages.get(v).timedBy(clock);
            prepared =
                previousStage.prepare(
                    p.trainData(), groups.assignment(), tf, p.model(), n, partitions);
            featurizeSecs = clock.seconds(StageClock.FEATURIZE);
          }
          previous = prepared;
          previousVariant = v;
          long s0 = System.nanoTime();
          ScoreStage.Scored tables =
              ScoreStage.score(spark, prepared.blocks, prepared.operator, null);
          long groupCount = tables.groupValues.count();
          double scoreSecs = secs(s0);
          // A reused cell pays featurize once, like a run with that damping alone would; reused
          // work (the IF exact Hessian sum) is charged to every cell.
          double attributionSecs =
              reused
                  ? featurizeSecs + clock.driverSeconds() + scoreSecs
                  : secs(a0) + clock.seconds(StageClock.REUSED);
          if (size == 1) {
            baseline.put(v, attributionSecs);
          }
          String tag =
              name(v.method())
                  + (projections.size() > 1
                      ? "-" + name(v.projection().kind()) + v.projection().dim()
                      : "")
                  + (severalModes && !v.modeName().equals("-")
                      ? "-" + v.modeName().replace(' ', '-')
                      : "")
                  + (dampings.size() > 1 ? "-damping" + v.damping().label() : "")
                  + "-"
                  + groupingName
                  + "-"
                  + size;
          console.info(
              "evaluate: %s: %,d groups, attribution %.1f s (grouping %.1f s)",
              tag, groupCount, attributionSecs, groupSecs);
          EvaluationStage.Fidelity r =
              evaluation.evaluate(
                  new EvaluationStage.Attribution(
                      tag, groups.assignment(), tables.scores, tables.groupValues));
          tables.release();
          double speedup =
              baseline.getOrDefault(v.baselineKey(firstKernel, firstHessian), Double.NaN)
                  / attributionSecs;
          Row row =
              new GenericRowWithSchema(
                  new Object[] {
                    name(v.method()),
                    v.projectionName(),
                    v.modeName(),
                    v.damping().label(),
                    groupingName,
                    size,
                    groupCount,
                    attributionSecs,
                    nullIfNaN(speedup),
                    nullIfNaN(r.lds),
                    nullIfNaN(r.groupLds),
                    nullIfNaN(r.removalEffect),
                    nullIfNaN(r.randomRemovalEffect),
                    nullIfNaN(r.looPearson),
                    groupSecs,
                    targetSeconds.get(v.featureKey()),
                    nullIfNaN(r.ldsOneRun),
                    nullIfNaN(r.groupLdsOneRun),
                    featurizeSecs,
                    clock.driverSeconds(),
                    scoreSecs
                  },
                  TABLE);
          byMethod
              .computeIfAbsent(
                  name(v.method())
                      + " "
                      + v.projectionName()
                      + " "
                      + v.modeName()
                      + " "
                      + v.damping().label(),
                  x -> new ArrayList<>())
              .add(row);
          print(List.of(row));
        }
        if (previous != null) {
          previous.blocks.unpersist(false);
        }
        groups.assignment().unpersist();
      }
    }
    for (List<Row> list : byMethod.values()) {
      rows.addAll(list);
    }
    for (Row row : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (int i = 0; i < TABLE.fields().length; i++) {
        m.put(TABLE.fields()[i].name(), row.get(i));
      }
      json.add(m);
    }
    p.info()
        .stage(
            "write_evaluation",
            () ->
                Tables.write(
                    spark.createDataFrame(rows, TABLE).coalesce(1),
                    out.path("evaluation/efficiency_fidelity"),
                    config.output().format()));
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("train_rows", n);
    settings.put("protocol", evaluation.protocol());
    settings.put("rows", json);
    p.info().put("efficiency_fidelity", settings);
    print(rows);
    console.info("evaluate: fidelity protocol %s", evaluation.protocol());
  }

  static void print(List<Row> rows) {
    System.out.println();
    System.out.printf(
        "%-7s %-16s %-17s %-10s %-13s %5s %7s %9s %8s %7s %9s %10s %10s %9s %11s%n",
        "method",
        "projection",
        "mode",
        "damping",
        "grouping",
        "size",
        "groups",
        "attr s",
        "speedup",
        "LDS",
        "group LDS",
        "removal",
        "random rm",
        "LDS 1run",
        "gLDS 1run");
    for (Row r : rows) {
      System.out.printf(
          "%-7s %-16s %-17s %-10s %-13s %5d %7d %9.1f %8s %7s %9s %10s %10s %9s %11s%n",
          r.getAs("method"),
          r.getAs("projection"),
          r.getAs("mode"),
          r.getAs("damping"),
          r.getAs("grouping"),
          (int) r.getAs("group_size"),
          (long) r.getAs("groups"),
          (double) r.getAs("attribution_seconds"),
          fmt(r.getAs("speedup"), "%.1fx"),
          fmt(r.getAs("lds"), "%.3f"),
          fmt(r.getAs("group_lds"), "%.3f"),
          fmt(r.getAs("removal_effect"), "%+.4f"),
          fmt(r.getAs("random_removal_effect"), "%+.4f"),
          fmt(r.getAs("lds_one_run"), "%.3f"),
          fmt(r.getAs("group_lds_one_run"), "%.3f"));
    }
  }

  private static String fmt(Object v, String format) {
    return v == null ? "-" : String.format(format, v);
  }

  private static Double nullIfNaN(double v) {
    return Double.isNaN(v) ? null : v;
  }

  static String name(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
