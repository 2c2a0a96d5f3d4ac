package dev.ggda.data;

import static org.apache.spark.sql.functions.array_repeat;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.transform;

import dev.ggda.InputException;
import dev.ggda.config.DataSource;
import dev.ggda.config.SyntheticSpec;
import dev.ggda.data.TableReader.Working;
import dev.ggda.io.HadoopFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads one input (the training set or the targets) into the canonical schema of {@link Columns},
 * validated before any heavy work.
 *
 * <p>Parquet, CSV and LibSVM go through Spark's data sources; IDX files are read on the driver and
 * distributed; the synthetic mixture is generated on the executors. Paths are resolved with the
 * Hadoop FileSystem API, so file://, hdfs://, s3a:// and plain local paths all work. Example ids
 * are stable: the id column when the table has one, the position for IDX and synthetic data, and
 * otherwise derived from content (see {@link ExampleIds}). {@code limit} keeps the examples with
 * the {@code limit} smallest ids: the first rows of IDX and synthetic data, and a deterministic
 * pseudo-random subset when ids are content hashes. Every problem with the user's data is an {@link
 * InputException} whose one-line message names the config key or path, the column, the first
 * offending row and the fix.
 */
public final class DataLoader {
  private static final Logger LOG = LoggerFactory.getLogger(DataLoader.class);

  private DataLoader() {}

  /**
   * Loads and validates one input.
   *
   * @param classes the configured class count, or null to take max label + 1
   * @param role "train" or "targets": names the config keys in messages and keys the synthetic
   *     stream
   */
  public static LoadedData load(SparkSession spark, DataSource spec, Integer classes, String role) {
    return load(spark, spec, classes, role, null);
  }

  /**
   * As {@link #load(SparkSession, DataSource, Integer, String)}, requiring {@code expectedDim}
   * features per example when not null (load targets with the training set's dim: LibSVM targets
   * are then read at that width, and any other mismatch is an error naming both sizes).
   */
  public static LoadedData load(
      SparkSession spark, DataSource spec, Integer classes, String role, Integer expectedDim) {
    return load(spark, spec, classes, role, expectedDim, LOG::info);
  }

  /**
   * As above, telling {@code notes} (the run log) which source columns are the features and every
   * column the run does not use, with why.
   */
  public static LoadedData load(
      SparkSession spark,
      DataSource spec,
      Integer classes,
      String role,
      Integer expectedDim,
      Consumer<String> notes) {
    Objects.requireNonNull(role, "role");
    if (spec == null) {
      throw new InputException(
          "data." + role + ": missing; give at least data." + role + ".path and format");
    }
    Source src = new Source(role, spec.path());
    if (spec.format() == null) {
      throw new InputException(
          src.key("format") + ": required, one of parquet, csv, libsvm, idx, synthetic");
    }
    if (classes != null && classes < 2) {
      throw new InputException("data.classes: must be at least 2, got " + classes);
    }
    if (spec.limit() != null && (spec.limit() < 1 || spec.limit() > Integer.MAX_VALUE)) {
      throw new InputException(
          src.key("limit")
              + ": must be between 1 and "
              + Integer.MAX_VALUE
              + ", got "
              + spec.limit()
              + "; or null to keep all examples");
    }
    LoadedData data =
        switch (spec.format()) {
          case SYNTHETIC -> synthetic(spark, spec, classes, src);
          case IDX -> idx(spark, spec, classes, src);
          case PARQUET, CSV, LIBSVM -> table(spark, spec, classes, src, expectedDim, notes);
        };
    if (expectedDim != null && data.dim() != expectedDim) {
      throw src.error(
          "rows have "
              + data.dim()
              + " features but "
              + expectedDim
              + " are expected (the training set's); targets and training data need the same features");
    }
    LOG.info(
        "{}: {} examples, {} features, {} classes",
        src.at(),
        data.count(),
        data.dim(),
        data.classes());
    return data;
  }

  private static LoadedData table(
      SparkSession spark,
      DataSource spec,
      Integer classes,
      Source src,
      Integer expectedDim,
      Consumer<String> notes) {
    requireExists(spark, spec.path(), "path", src);
    return frame(TableReader.read(spark, spec, src, expectedDim), spec, classes, src, notes);
  }

  /**
   * Validates a Dataset the caller already holds (the programmatic API) into the canonical schema:
   * the same column mapping, id derivation and checks as a Parquet table, with the column names of
   * {@code columns} (its path, format and limit are not used).
   *
   * @param role "train" or "targets"
   * @param expectedDim the training set's feature count when loading targets, else null
   * @param notes receives the lines saying which columns are features and which are not used
   */
  public static LoadedData fromDataset(
      Dataset<Row> raw,
      DataSource columns,
      Integer classes,
      String role,
      Integer expectedDim,
      Consumer<String> notes) {
    Source src = new Source(role, null);
    LoadedData data = frame(raw, columns, classes, src, notes);
    if (expectedDim != null && data.dim() != expectedDim) {
      throw src.error(
          "rows have "
              + data.dim()
              + " features but "
              + expectedDim
              + " are expected (the training set's); targets and training data need the same features");
    }
    return data;
  }

  private static LoadedData frame(
      Dataset<Row> raw, DataSource spec, Integer classes, Source src, Consumer<String> notes) {
    Working w = TableReader.working(raw, spec, src);
    if (w.featureColumns() != null) {
      notes.accept(
          "data."
              + src.role()
              + ": the features are "
              + w.featureColumns().size()
              + " numeric columns: "
              + abbreviated(w.featureColumns()));
    }
    if (!w.unused().isEmpty()) {
      notes.accept("data." + src.role() + ": columns not used: " + String.join(", ", w.unused()));
    }
    if (w.deriveIds()) {
      w = w.withFrame(ExampleIds.derive(w.frame(), w.hasGroup()));
    } else {
      ExampleIds.requireUnique(w.frame(), w.idCol(), src);
    }
    if (spec.limit() != null) w = w.withFrame(smallestIds(w.frame(), spec.limit()));
    DataValidator.Summary r = DataValidator.validate(w, classes, src);
    Dataset<Row> sources =
        src.path() == null
            ? null
            : w.frame()
                .select(
                    org.apache.spark.sql.functions.col(Columns.EXAMPLE_ID),
                    org.apache.spark.sql.functions.col(TableReader.FILE).as(Columns.SOURCE_FILE));
    return new LoadedData(
        canonical(w.frame(), w.hasGroup()), r.dim(), r.classes(), r.count(), sources);
  }

  /** "a, b, c" or, for many, "a, b, c, d, e, ..., y, z". */
  static String abbreviated(List<String> names) {
    if (names.size() <= 12) {
      return String.join(", ", names);
    }
    return String.join(", ", names.subList(0, 5))
        + ", ..., "
        + String.join(", ", names.subList(names.size() - 2, names.size()));
  }

  /**
   * Keeps the rows with the {@code limit} smallest ids: a top-k over the id column alone finds the
   * cut-off, then a filter keeps the original partitioning (ids are unique at this point).
   */
  private static Dataset<Row> smallestIds(Dataset<Row> frame, long limit) {
    Column id = col(Columns.EXAMPLE_ID);
    Row cut =
        frame.select(id).filter(id.isNotNull()).orderBy(id).limit((int) limit).agg(max(id)).head();
    // Null ids (a user id column with holes) stay in, so that validation reports them.
    return cut.isNullAt(0) ? frame : frame.filter(id.isNull().or(id.leq(cut.getLong(0))));
  }

  /**
   * The validated working frame in the canonical schema. The coalesces never fire (validation ruled
   * out nulls); they are how Spark learns the columns are non-nullable.
   */
  static Dataset<Row> canonical(Dataset<Row> frame, boolean hasGroup) {
    List<Column> cols = new ArrayList<>();
    cols.add(coalesce(col(Columns.EXAMPLE_ID), lit(0L)).as(Columns.EXAMPLE_ID));
    cols.add(coalesce(col(TableReader.LABEL_D).cast("int"), lit(0)).as(Columns.LABEL));
    cols.add(
        coalesce(
                transform(col(Columns.FEATURES), x -> coalesce(x, lit(0f))),
                array_repeat(lit(0f), 0))
            .as(Columns.FEATURES));
    if (hasGroup) cols.add(col(Columns.GROUP));
    return frame.select(cols.toArray(Column[]::new));
  }

  private static LoadedData idx(SparkSession spark, DataSource spec, Integer classes, Source src) {
    noGroup(spec, src);
    requireExists(spark, spec.path(), "path", src);
    String labels = spec.labelsPath();
    if (labels == null) {
      labels = IdxReader.derivedLabelsPath(spec.path());
      if (labels == null) {
        throw new InputException(
            src.key("labels_path")
                + ": cannot derive the labels file from "
                + spec.path()
                + " (its name has no 'images-idx3'); set it to the *-labels-idx1-ubyte[.gz] file");
      }
    }
    requireExists(spark, labels, "labels_path", src);
    IdxReader.IdxData d = IdxReader.read(spark, spec.path(), labels, spec.limit(), src);
    if (d.n() == 0)
      throw src.error(
          "no images in the file; point " + src.key("path") + " at a non-empty IDX file");
    int resolved = classes != null ? classes : d.maxLabel() + 1;
    for (int i = 0; i < d.n(); i++) {
      int l = d.labels()[i] & 0xff;
      if (l >= resolved) {
        throw src.error(
            "label "
                + l
                + " at example_id "
                + i
                + " in "
                + labels
                + " is outside [0, "
                + resolved
                + ") (data.classes = "
                + resolved
                + "); raise data.classes");
      }
    }
    if (resolved < 2) {
      throw src.error(
          "the labels in "
              + labels
              + " hold only class 0; classification needs at least 2 classes");
    }
    Dataset<Row> examples = IdxReader.toDataset(spark, d, IdxReader.defaultPartitions(spark, d));
    return new LoadedData(examples, d.dim(), resolved, d.n());
  }

  private static LoadedData synthetic(
      SparkSession spark, DataSource spec, Integer classes, Source src) {
    noGroup(spec, src);
    SyntheticSpec s = spec.synthetic();
    SyntheticData.validate(s, src);
    if (classes != null && classes < s.classes()) {
      throw new InputException(
          "data.classes: "
              + classes
              + " is fewer than "
              + src.key("synthetic.classes")
              + " = "
              + s.classes()
              + "; raise data.classes or leave it unset");
    }
    long rows = spec.limit() == null ? s.n() : Math.min(s.n(), spec.limit());
    Dataset<Row> examples =
        SyntheticData.generate(
            spark, s, src.role(), rows, SyntheticData.defaultPartitions(spark, rows, s.dim()));
    return new LoadedData(examples, s.dim(), classes != null ? classes : s.classes(), rows);
  }

  private static void noGroup(DataSource spec, Source src) {
    if (spec.groupCol() != null) {
      throw new InputException(
          src.key("group_col")
              + ": format "
              + spec.format().name().toLowerCase(Locale.ROOT)
              + " has no columns to group by; set it to null and choose group.method instead");
    }
  }

  private static void requireExists(SparkSession spark, String path, String field, Source src) {
    if (path == null || path.isBlank()) {
      throw new InputException(src.key(field) + ": required for this format");
    }
    if (!HadoopFiles.exists(spark, path)) {
      throw new InputException(
          src.key(field)
              + ": no such file or directory: "
              + path
              + "; check the path and its scheme (file://, hdfs://, s3a://)");
    }
  }
}
