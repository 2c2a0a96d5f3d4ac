package dev.ggda.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Equal-width histogram: bin i covers [lo + i*width, lo + (i+1)*width), the last bin closed. For
 * integral data (group sizes) the bins are integer ranges of integer width, single values when the
 * range fits in {@code maxBins}, so every bar is a whole set of sizes.
 *
 * @param lo left edge of bin 0
 * @param width bin width (> 0)
 * @param counts values per bin
 * @param integerBins whether bin i holds exactly the integers lo + i*width .. lo + (i+1)*width - 1
 */
public record Histogram(double lo, double width, long[] counts, boolean integerBins) {
  public Histogram {
    counts = counts.clone();
  }

  @Override
  public long[] counts() {
    return counts.clone();
  }

  public long total() {
    return Arrays.stream(counts).sum();
  }

  /**
   * The bin layout for finite data in [min, max]: lo, width, bin count and whether bins are single
   * integers.
   */
  public record Layout(double lo, double width, int bins, boolean integerBins) {
    /** Bin of a value in [min, max]; the top edge goes into the last bin. */
    public int binOf(double x) {
      int b = (int) Math.floor((x - lo) / width);
      return Math.max(0, Math.min(bins - 1, b));
    }
  }

  public static Layout layout(double min, double max, boolean integral, int maxBins) {
    if (maxBins < 1) {
      throw new IllegalArgumentException("maxBins must be >= 1, got " + maxBins);
    }
    if (integral) {
      // Integer-aligned bins of integer width: width 1 when every value gets its own bin.
      double values = max - min + 1;
      double width = Math.ceil(values / maxBins);
      return new Layout(min, width, (int) Math.ceil(values / width), true);
    }
    if (max == min) {
      return new Layout(min, 1.0, 1, false);
    }
    return new Layout(min, (max - min) / maxBins, maxBins, false);
  }

  /** Histogram of the finite values (NaN and infinities are left out). */
  public static Histogram of(double[] values, boolean integral, int maxBins) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (Double.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (min > max) {
      return new Histogram(0, 1, new long[0], false);
    }
    Layout l = layout(min, max, integral, maxBins);
    long[] counts = new long[l.bins()];
    for (double v : values) {
      if (Double.isFinite(v)) {
        counts[l.binOf(v)]++;
      }
    }
    return new Histogram(l.lo(), l.width(), counts, l.integerBins());
  }

  /**
   * Bin labels: the value for single-integer bins, "a-b" for integer ranges, "[a, b)" otherwise.
   */
  public List<String> labels() {
    List<String> labels = new ArrayList<>(counts.length);
    for (int i = 0; i < counts.length; i++) {
      double a = lo + i * width;
      if (integerBins && width == 1.0) {
        labels.add(String.valueOf((long) a));
      } else if (integerBins) {
        labels.add((long) a + "\u2013" + (long) (a + width - 1));
      } else {
        labels.add(
            "[" + number(a) + ", " + number(a + width) + (i == counts.length - 1 ? "]" : ")"));
      }
    }
    return labels;
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }
}
