package dev.ggda.data;

import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.count_if;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.min_by;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.transform;
import static org.apache.spark.sql.functions.when;

import dev.ggda.data.TableReader.Working;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;

/**
 * Checks a working frame (see {@link TableReader}) in one aggregation pass: row count, null ids,
 * feature count (the first row's, by example_id) and its spread, the first row with null features
 * or a null, NaN or infinite feature value, the first row whose label is missing, not a whole
 * number, negative or not below {@code classes}, and the largest label. "First" is the smallest
 * example_id, so the same row is named however the data is partitioned. Only when the features are
 * ragged does a second, error-path query name the first row of the wrong length.
 */
final class DataValidator {
  /** What the pass found; {@code classes} is resolved (given, or max label + 1). */
  record Summary(long count, int dim, int classes) {}

  private static final String BAD_AT = "_bad_at";

  private DataValidator() {}

  /** Largest feature magnitude accepted: squares and products of gradients stay inside float32. */
  static final double MAX_ABS_FEATURE = 1e15;

  static Summary validate(Working w, Integer classes, Source src) {
    Column id = col(Columns.EXAMPLE_ID);
    Column f = col(Columns.FEATURES);
    Column label = col(TableReader.LABEL_D);
    Column file = col(TableReader.FILE);
    Column len = size(f);

    // 1-based index of the first null, non-finite or too large feature, 0 if none. NaN sorts above
    // every number in Spark, so one range test rejects NaN, +-Inf and values whose gradients and
    // kernel sums would overflow float32; coalesce rejects null.
    Column badAtExpr =
        array_position(
                transform(
                    f,
                    x ->
                        not(
                            coalesce(
                                x.geq(lit(-MAX_ABS_FEATURE)).and(x.leq(lit(MAX_ABS_FEATURE))),
                                lit(false)))),
                true)
            .cast("int");
    Column badAt = col(BAD_AT);
    // Without a configured class count, any label that fits an int is accepted (classes = max + 1).
    double cap = classes == null ? Integer.MAX_VALUE : classes;
    Column labelOk =
        coalesce(label.geq(0).and(label.lt(cap)).and(label.equalTo(floor(label))), lit(false));

    Row r =
        w.frame()
            .withColumn(BAD_AT, badAtExpr)
            .agg(
                count(lit(1)),
                count_if(id.isNull()),
                first(when(id.isNull(), file), true),
                min_by(struct(id, file), when(f.isNull(), id)),
                min_by(struct(id, len), id),
                min(len),
                max(len),
                min_by(
                    struct(id, badAt, element_at(f, when(badAt.gt(0), badAt)), file),
                    when(badAt.gt(0), id)),
                min_by(struct(id, label, file), when(not(labelOk), id)),
                max(label))
            .head();

    long n = r.getLong(0);
    if (n == 0) {
      throw src.error("no rows; point " + src.key("path") + " at a non-empty table");
    }
    if (r.getLong(1) > 0) {
      throw src.error(
          "id column '"
              + w.idCol()
              + "' is null in "
              + r.getLong(1)
              + " rows (first in "
              + r.getString(2)
              + "); fill in the ids, or set "
              + src.key("id_col")
              + ": null to derive ids from content");
    }
    if (!r.isNullAt(3)) {
      Row bad = r.getStruct(3);
      throw src.error(
          w.featuresDesc()
              + " is null "
              + where(bad.getLong(0), bad.getString(1), w)
              + "; fill in or drop that row");
    }
    Row first = r.getStruct(4);
    int dim = first.getInt(1);
    if (dim == 0) {
      throw src.error(
          w.featuresDesc()
              + " is empty "
              + where(first.getLong(0), null, w)
              + "; every row needs at least one feature");
    }
    if (r.getInt(5) != r.getInt(6)) {
      Row bad =
          w.frame()
              .filter(len.notEqual(dim))
              .agg(min_by(struct(id, len, file), id))
              .head()
              .getStruct(0);
      throw src.error(
          "ragged features in "
              + w.featuresDesc()
              + ": expected "
              + dim
              + " values (as in the first row, example_id "
              + first.getLong(0)
              + "), got "
              + bad.getInt(1)
              + " "
              + where(bad.getLong(0), bad.getString(2), w)
              + "; every row needs the same number of features");
    }
    if (!r.isNullAt(7)) {
      Row bad = r.getStruct(7);
      int index = bad.getInt(1) - 1;
      String value =
          bad.isNullAt(2) ? "missing (null or not a number)" : String.valueOf(bad.getFloat(2));
      throw src.error(
          featureName(w, index)
              + " is "
              + value
              + " "
              + where(bad.getLong(0), bad.getString(3), w)
              + "; features must be finite numbers of magnitude at most "
              + (float) MAX_ABS_FEATURE
              + " (larger ones overflow float32 gradients): fix or drop that row, or scale the features");
    }
    if (!r.isNullAt(8)) {
      Row bad = r.getStruct(8);
      String at = where(bad.getLong(0), bad.getString(2), w);
      String col = labelColumn(w);
      if (bad.isNullAt(1)) throw src.error(col + " is empty " + at + "; every row needs a label");
      double v = bad.getDouble(1);
      if (Double.isNaN(v) || v != Math.floor(v)) {
        throw src.error(
            col
                + " holds "
                + v
                + " "
                + at
                + ", not a whole number; labels must be class ids 0..classes-1");
      }
      if (classes != null) {
        throw src.error(
            col
                + " holds "
                + fmt(v)
                + " "
                + at
                + ", outside [0, "
                + classes
                + ") (data.classes = "
                + classes
                + "); raise data.classes or fix the label");
      }
      throw src.error(
          col + " holds " + fmt(v) + " " + at + "; labels must be class ids 0, 1, 2, ...");
    }
    int resolved = classes != null ? classes : (int) r.getDouble(9) + 1;
    if (resolved < 2) {
      throw src.error(
          labelColumn(w)
              + " has only the class 0; classification needs at least 2 classes: check "
              + src.key("label_col")
              + " or set data.classes");
    }
    return new Summary(n, dim, resolved);
  }

  private static String labelColumn(Working w) {
    return "label column '" + w.labelCol() + "'";
  }

  /**
   * "feature 3 (column 'x3')" when features come from separate columns, else "feature 3 of column
   * 'features'".
   */
  private static String featureName(Working w, int index) {
    if (w.featureColumns() != null && index < w.featureColumns().size()) {
      return "feature " + index + " (column '" + w.featureColumns().get(index) + "')";
    }
    return "feature " + index + " of " + w.featuresDesc();
  }

  /** The row, as the user can find it: its example_id (saying when it was derived) and its file. */
  private static String where(long id, String file, Working w) {
    String s = "at example_id " + id + (w.deriveIds() ? " (derived from content)" : "");
    return file == null || file.isEmpty() ? s : s + " in " + file;
  }

  private static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
  }
}
