package dev.ggda.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything report.html shows, as plain values read from a run's output folder. Optional sections
 * are empty lists (or null histograms) when their table is absent; the page then leaves them out.
 *
 * @param outputPath the folder the report describes, as the user knows it
 * @param run the run summary from run.json
 * @param groupSizes histogram of group_stats size; null without group_stats/
 * @param groupCount rows of group_stats/ (0 without it)
 * @param scores histogram of scores/ score; null without scores/
 * @param scoreCount rows of scores/ (0 without it)
 * @param topGroups the top proponent and opponent groups of the first few targets
 * @param topValues the highest-value groups of group_values/ (rank 1 first)
 * @param bottomValues the lowest-value groups of group_values/ (lowest first)
 * @param efficiency rows of evaluation/efficiency_fidelity/
 * @param prune rows of prune/validation/
 * @param noiseCurve rows of noise/curve/
 * @param noiseSummary rows of noise/summary/
 */
public record ReportData(
    String outputPath,
    RunSummary run,
    Histogram groupSizes,
    long groupCount,
    Histogram scores,
    long scoreCount,
    List<TargetGroups> topGroups,
    List<RankedGroup> topValues,
    List<RankedGroup> bottomValues,
    List<EfficiencyPoint> efficiency,
    List<PrunePoint> prune,
    List<NoisePoint> noiseCurve,
    List<NoiseSummary> noiseSummary) {

  public ReportData {
    topGroups = List.copyOf(topGroups);
    topValues = List.copyOf(topValues);
    bottomValues = List.copyOf(bottomValues);
    efficiency = List.copyOf(efficiency);
    prune = List.copyOf(prune);
    noiseCurve = List.copyOf(noiseCurve);
    noiseSummary = List.copyOf(noiseSummary);
  }

  /**
   * A report of run.json alone (a train run), to which sections are added with the with-methods.
   */
  public static ReportData of(String outputPath, RunSummary run) {
    return new ReportData(
        outputPath,
        run,
        null,
        0,
        null,
        0,
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of());
  }

  public ReportData withGroups(Histogram sizes, long count) {
    return new ReportData(
        outputPath,
        run,
        sizes,
        count,
        scores,
        scoreCount,
        topGroups,
        topValues,
        bottomValues,
        efficiency,
        prune,
        noiseCurve,
        noiseSummary);
  }

  public ReportData withScores(Histogram histogram, long count, List<TargetGroups> top) {
    return new ReportData(
        outputPath,
        run,
        groupSizes,
        groupCount,
        histogram,
        count,
        top,
        topValues,
        bottomValues,
        efficiency,
        prune,
        noiseCurve,
        noiseSummary);
  }

  public ReportData withGroupValues(List<RankedGroup> top, List<RankedGroup> bottom) {
    return new ReportData(
        outputPath,
        run,
        groupSizes,
        groupCount,
        scores,
        scoreCount,
        topGroups,
        top,
        bottom,
        efficiency,
        prune,
        noiseCurve,
        noiseSummary);
  }

  public ReportData withEfficiency(List<EfficiencyPoint> rows) {
    return new ReportData(
        outputPath,
        run,
        groupSizes,
        groupCount,
        scores,
        scoreCount,
        topGroups,
        topValues,
        bottomValues,
        rows,
        prune,
        noiseCurve,
        noiseSummary);
  }

  public ReportData withPrune(List<PrunePoint> rows) {
    return new ReportData(
        outputPath,
        run,
        groupSizes,
        groupCount,
        scores,
        scoreCount,
        topGroups,
        topValues,
        bottomValues,
        efficiency,
        rows,
        noiseCurve,
        noiseSummary);
  }

  public ReportData withNoise(List<NoisePoint> curve, List<NoiseSummary> summary) {
    return new ReportData(
        outputPath,
        run,
        groupSizes,
        groupCount,
        scores,
        scoreCount,
        topGroups,
        topValues,
        bottomValues,
        efficiency,
        prune,
        curve,
        summary);
  }

  /**
   * What run.json says, flattened for display.
   *
   * @param command the subcommand that wrote the run
   * @param configJson the resolved config, pretty-printed JSON
   * @param facts ordered sections ("counts", "versions", ...) of name -> value
   * @param stageSeconds wall time per stage, in the order the stages ran
   */
  public record RunSummary(
      String command,
      String started,
      String finished,
      String configJson,
      Map<String, Map<String, String>> facts,
      Map<String, Double> stageSeconds) {
    public RunSummary {
      Map<String, Map<String, String>> f = new LinkedHashMap<>();
      facts.forEach((k, v) -> f.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
      facts = Collections.unmodifiableMap(f);
      stageSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(stageSeconds));
    }
  }

  /**
   * One group as seen by one target.
   *
   * @param labelCounts examples per class (empty when group_stats has none)
   * @param majorityLabel -1 when unknown
   * @param thumbnails PNG data URIs of a few members (image data only)
   * @param groupKey the user's name of the group (group.method column), or null
   */
  public record GroupScore(
      long groupId,
      double score,
      long size,
      int majorityLabel,
      long[] labelCounts,
      List<String> thumbnails,
      String groupKey) {
    public GroupScore {
      labelCounts = labelCounts.clone();
      thumbnails = List.copyOf(thumbnails);
    }

    /** A group without a name. */
    public GroupScore(
        long groupId,
        double score,
        long size,
        int majorityLabel,
        long[] labelCounts,
        List<String> thumbnails) {
      this(groupId, score, size, majorityLabel, labelCounts, thumbnails, null);
    }

    @Override
    public long[] labelCounts() {
      return labelCounts.clone();
    }
  }

  /**
   * Proponents highest score first, opponents lowest first.
   *
   * @param opponentsKnown false when scores/ keeps only the top k per target (output.top_k), so the
   *     lowest scores are unknown and no opponents are shown
   */
  public record TargetGroups(
      long targetId,
      List<GroupScore> proponents,
      List<GroupScore> opponents,
      boolean opponentsKnown) {
    public TargetGroups {
      proponents = List.copyOf(proponents);
      opponents = List.copyOf(opponents);
    }
  }

  /**
   * @param groupKey the user's name of the group (group.method column), or null
   */
  public record RankedGroup(
      long groupId, long size, double value, double valuePerExample, long rank, String groupKey) {
    /** A group without a name. */
    public RankedGroup(long groupId, long size, double value, double valuePerExample, long rank) {
      this(groupId, size, value, valuePerExample, rank, null);
    }
  }

  /** A row of evaluation/efficiency_fidelity/; NaN means not measured. */
  public record EfficiencyPoint(
      String method,
      String grouping,
      long groupSize,
      long groups,
      double attributionSeconds,
      double speedup,
      double lds,
      double groupLds,
      double removalEffect) {}

  /** A row of prune/validation/: strategy is attribution, random or full. */
  public record PrunePoint(
      double fraction, String strategy, double accuracyMean, double accuracyStd, long seeds) {}

  public record NoisePoint(String method, double inspectedFraction, double recall) {}

  public record NoiseSummary(String method, double auc, double recallAt20) {}
}
