package dev.ggda.data;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.trim;

import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Parquet, CSV and LibSVM tables and maps their columns onto the <em>working</em> frame the
 * loader validates: {@code example_id} long (nullable: from the id column) or absent (to be
 * derived), {@code _label} double (any numeric label, checked to be an integer later), {@code
 * features} array&lt;float&gt; (possibly with nulls/NaN, checked later), optional {@code group}
 * string, and {@code _file} (the source file, for messages). Only schema problems are raised here;
 * value problems need a pass over the data and are found by {@link DataValidator}.
 */
final class TableReader {
  static final String LABEL_D = "_label";
  static final String FILE = "_file";

  private static final Logger LOG = LoggerFactory.getLogger(TableReader.class);

  /**
   * The working frame and what messages need to name its parts.
   *
   * @param deriveIds true when there is no id column and ids are derived from content
   * @param featuresDesc the features' origin for messages, e.g. "features column 'pixels'"
   * @param featureColumns the source column of each feature when features are separate numeric
   *     columns, else null
   * @param unused every source column that is none of label, id, group and features, with why, e.g.
   *     "'note' (text)"
   */
  record Working(
      Dataset<Row> frame,
      boolean deriveIds,
      boolean hasGroup,
      String labelCol,
      String idCol,
      String featuresDesc,
      List<String> featureColumns,
      List<String> unused) {
    Working withFrame(Dataset<Row> f) {
      return new Working(
          f, deriveIds, hasGroup, labelCol, idCol, featuresDesc, featureColumns, unused);
    }
  }

  private TableReader() {}

  /** Reads the raw table with Spark's data source for the format. */
  static Dataset<Row> read(SparkSession spark, DataSource spec, Source src, Integer expectedDim) {
    try {
      return switch (spec.format()) {
        case PARQUET -> spark.read().parquet(spec.path());
        // inferSchema costs a pass, but is how "numeric columns" can be told from the others.
        case CSV ->
            spark.read().option("header", "true").option("inferSchema", "true").csv(spec.path());
        case LIBSVM -> readLibsvm(spark, spec.path(), src, expectedDim);
        default -> throw new IllegalArgumentException("not a table format: " + spec.format());
      };
    } catch (Exception e) {
      // javac sees AnalysisException as checked but Scala never declares it: catch broadly, and
      // rethrow anything else unchanged.
      if (!(e instanceof AnalysisException ae)) throw e;
      if ("UNABLE_TO_INFER_SCHEMA".equals(ae.getCondition())) {
        throw src.error(
            "no rows: no "
                + format(spec)
                + " data files under the path; point "
                + src.key("path")
                + " at a non-empty table");
      }
      throw src.error(
          "cannot read it as "
              + format(spec)
              + ": "
              + firstLine(e.getMessage())
              + "; check "
              + src.key("format")
              + " and the files under the path");
    }
  }

  /**
   * LibSVM files say nothing about the feature count, so Spark infers it as the largest index seen.
   * A target set whose rows happen to leave the last features at zero would then look narrower than
   * the training set; when the caller knows the training dim, the file is re-read at that width.
   */
  private static Dataset<Row> readLibsvm(
      SparkSession spark, String path, Source src, Integer expectedDim) {
    Dataset<Row> df = spark.read().format("libsvm").load(path);
    if (expectedDim != null) {
      int inferred = AttributeGroup.fromStructField(df.schema().apply("features")).size();
      if (inferred >= 0 && inferred < expectedDim) {
        df = spark.read().format("libsvm").option("numFeatures", expectedDim).load(path);
      }
    }
    return df;
  }

  /** Maps the raw columns to the working frame, or says which column is missing or mistyped. */
  static Working working(Dataset<Row> raw, DataSource spec, Source src) {
    StructType schema = raw.schema();
    if (schema.fields().length == 0) {
      throw src.error(
          "no columns (empty file?); give a table with a header row and at least a label and one feature column");
    }
    // Checked before the column types: a header-only CSV infers every column as string, and "no
    // rows" is the useful message then. isEmpty reads at most one row.
    if (raw.isEmpty()) {
      throw src.error("no rows; point " + src.key("path") + " at a non-empty table");
    }
    String labelCol =
        spec.format() == DataFormat.LIBSVM ? "label" : orDefault(spec.labelCol(), "label");
    String idCol = spec.format() == DataFormat.LIBSVM ? null : spec.idCol();
    String featuresCol = spec.format() == DataFormat.LIBSVM ? "features" : spec.featuresCol();
    String groupCol = spec.groupCol();

    StructField label = field(schema, labelCol);
    if (label == null) {
      throw src.error(
          "label column '"
              + labelCol
              + "' not found; columns are "
              + names(schema)
              + "; set "
              + src.key("label_col")
              + " to the column holding integer class labels");
    }
    if (!(label.dataType() instanceof NumericType)) {
      throw src.error(
          "label column '"
              + labelCol
              + "' has type "
              + label.dataType().simpleString()
              + ", needs integers 0..classes-1 (any integer type, or a double holding whole numbers); map the labels to class ids first");
    }

    StructField id = idCol == null ? null : field(schema, idCol);
    if (id != null && !isIntegral(id.dataType())) {
      throw src.error(
          "id column '"
              + idCol
              + "' has type "
              + id.dataType().simpleString()
              + ", needs an integer type (int or bigint); cast it, or set "
              + src.key("id_col")
              + ": null to derive ids from content");
    }
    if (id == null && idCol != null) {
      LOG.info("{}: no id column '{}'; deriving example ids from content", src.at(), idCol);
    }

    StructField group = null;
    if (groupCol != null) {
      group = field(schema, groupCol);
      if (group == null) {
        throw src.error(
            "group column '"
                + groupCol
                + "' not found; columns are "
                + names(schema)
                + "; fix "
                + src.key("group_col")
                + " or set it to null");
      }
    }

    List<String> reserved = new ArrayList<>(List.of(labelCol));
    if (id != null) reserved.add(idCol);
    if (group != null) reserved.add(groupCol);
    Features features = features(raw, spec, featuresCol, reserved, src);

    List<Column> cols = new ArrayList<>();
    if (id != null) cols.add(quoted(raw, idCol).cast(DataTypes.LongType).as(Columns.EXAMPLE_ID));
    cols.add(quoted(raw, labelCol).cast(DataTypes.DoubleType).as(LABEL_D));
    cols.add(features.column().as(Columns.FEATURES));
    if (group != null) cols.add(quoted(raw, groupCol).cast(DataTypes.StringType).as(Columns.GROUP));
    cols.add(input_file_name().as(FILE));
    return new Working(
        raw.select(cols.toArray(Column[]::new)),
        id == null,
        group != null,
        labelCol,
        idCol,
        features.desc(),
        features.columns(),
        features.unused());
  }

  /**
   * The features column, its description for messages, its source columns, and the columns left
   * unused.
   */
  private record Features(Column column, String desc, List<String> columns, List<String> unused) {}

  /**
   * The features as array&lt;float&gt;: from the named column when it exists, else from all other
   * numeric columns. A text column whose cells are mostly numbers is taken for a feature column
   * with a bad cell, which is an error: leaving it out would silently drop a feature.
   */
  private static Features features(
      Dataset<Row> raw, DataSource spec, String featuresCol, List<String> reserved, Source src) {
    StructType schema = raw.schema();
    StructField f = featuresCol == null ? null : field(schema, featuresCol);
    if (f != null) {
      List<String> unused = new ArrayList<>();
      for (StructField sf : schema.fields()) {
        if (!reserved.contains(sf.name()) && !sf.name().equals(featuresCol)) {
          unused.add(quote(sf.name()) + " (the features are column " + quote(featuresCol) + ")");
        }
      }
      return new Features(
          featuresColumn(raw, f, src), "features column '" + featuresCol + "'", null, unused);
    }
    List<String> numeric = new ArrayList<>();
    List<String> text = new ArrayList<>();
    List<String> unused = new ArrayList<>();
    for (StructField sf : schema.fields()) {
      if (reserved.contains(sf.name())) continue;
      if (sf.dataType() instanceof NumericType) numeric.add(sf.name());
      else if (sf.dataType() == DataTypes.StringType) text.add(sf.name());
      else unused.add(quote(sf.name()) + " (type " + sf.dataType().simpleString() + ")");
    }
    unused.addAll(textColumns(raw, spec, text, src));
    if (numeric.isEmpty()) {
      throw src.error(
          "no features: no column '"
              + featuresCol
              + "' and no numeric columns besides "
              + reserved
              + " (columns are "
              + names(schema)
              + "); set "
              + src.key("features_col"));
    }
    Column array =
        org.apache.spark.sql.functions.array(
            numeric.stream()
                .map(n -> quoted(raw, n).cast(DataTypes.FloatType))
                .toArray(Column[]::new));
    return new Features(array, "the feature columns", List.copyOf(numeric), unused);
  }

  private static Column featuresColumn(Dataset<Row> raw, StructField f, Source src) {
    DataType t = f.dataType();
    Column c = quoted(raw, f.name());
    ArrayType floats = DataTypes.createArrayType(DataTypes.FloatType);
    if (t instanceof VectorUDT) {
      return org.apache.spark.ml.functions.vector_to_array(c, "float32");
    }
    if (t instanceof ArrayType a && a.elementType() instanceof NumericType) {
      return c.cast(floats);
    }
    if (t instanceof ArrayType a && a.elementType() == DataTypes.StringType) {
      return c.try_cast(floats);
    }
    if (t == DataTypes.StringType) {
      // "0.1 0.2 0.3" (or comma/semicolon separated); a token that is not a number becomes null
      // and is reported by the validator with its row and index.
      return split(trim(c), "[\\s,;]+").try_cast(floats);
    }
    throw src.error(
        "features column '"
            + f.name()
            + "' has type "
            + t.simpleString()
            + ", needs an ML vector, an array of numbers, or a string of space-separated numbers");
  }

  /**
   * Text columns, each unused with its reason, or an error naming the first bad cell of one whose
   * non-empty cells are at least half numbers (a numeric column with a stray non-numeric cell). One
   * aggregation pass over the text columns counts their cells and their numbers.
   */
  private static List<String> textColumns(
      Dataset<Row> raw, DataSource spec, List<String> text, Source src) {
    if (text.isEmpty()) {
      return List.of();
    }
    List<Column> counts = new ArrayList<>();
    for (String name : text) {
      counts.add(count(quoted(raw, name)));
      counts.add(count(quoted(raw, name).try_cast(DataTypes.DoubleType)));
    }
    Row r = raw.agg(counts.get(0), counts.subList(1, counts.size()).toArray(Column[]::new)).head();
    List<String> unused = new ArrayList<>();
    for (int i = 0; i < text.size(); i++) {
      long cells = r.getLong(2 * i);
      long numbers = r.getLong(2 * i + 1);
      if (numbers > 0 && 2 * numbers >= cells) {
        throw badCell(raw, spec, text.get(i), numbers, cells, src);
      }
      unused.add(
          quote(text.get(i))
              + (numbers == 0
                  ? " (text)"
                  : " (text: " + numbers + " of " + cells + " cells are numbers)"));
    }
    return unused;
  }

  private static dev.ggda.InputException badCell(
      Dataset<Row> raw, DataSource spec, String name, long numbers, long cells, Source src) {
    Column c = quoted(raw, name);
    Row bad =
        raw.where(c.isNotNull().and(c.try_cast(DataTypes.DoubleType).isNull()))
            .select(input_file_name().as(FILE), c)
            .orderBy(FILE)
            .limit(1)
            .head();
    String file = bad.getString(0);
    String value = bad.getString(1);
    long line =
        spec.format() == DataFormat.CSV
            ? CsvLines.lineOf(
                raw.sparkSession().sparkContext().hadoopConfiguration(), file, name, value)
            : -1;
    String where = (line > 0 ? "at line " + line + " of " : "in ") + file;
    return src.error(
        "feature column "
            + quote(name)
            + " holds "
            + shown(value)
            + " "
            + where
            + ", not a number ("
            + numbers
            + " of its "
            + cells
            + " cells are numbers, so it was read as text); fix or drop that row, or remove"
            + " the column if it is not a feature");
  }

  /** A cell value for a one-line message: quoted, control characters escaped, long values cut. */
  private static String shown(String value) {
    String v = value.length() > 60 ? value.substring(0, 60) + "..." : value;
    StringBuilder b = new StringBuilder("\"");
    v.codePoints()
        .forEach(
            cp -> {
              if (cp < 0x20 || cp == 0x7f) {
                b.append(String.format("\\u%04x", cp));
              } else {
                b.appendCodePoint(cp);
              }
            });
    return b.append('"').toString();
  }

  private static String quote(String name) {
    return "'" + name + "'";
  }

  private static boolean isIntegral(DataType t) {
    return t == DataTypes.ByteType
        || t == DataTypes.ShortType
        || t == DataTypes.IntegerType
        || t == DataTypes.LongType
        || (t instanceof DecimalType d && d.scale() == 0 && d.precision() <= 18);
  }

  /** Exact (case-sensitive) lookup: "label" must not silently match a column "Label". */
  private static StructField field(StructType schema, String name) {
    return Arrays.stream(schema.fields())
        .filter(f -> f.name().equals(name))
        .findFirst()
        .orElse(null);
  }

  /** Column names may contain dots or spaces; backticks make Spark take them literally. */
  private static Column quoted(Dataset<Row> df, String name) {
    return df.col("`" + name.replace("`", "``") + "`");
  }

  private static String names(StructType schema) {
    return Arrays.stream(schema.fieldNames()).collect(Collectors.joining(", ", "[", "]"));
  }

  private static String format(DataSource spec) {
    return spec.format().name().toLowerCase(Locale.ROOT);
  }

  private static String orDefault(String v, String d) {
    return v == null ? d : v;
  }

  static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
