package dev.ggda.apps;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ggda.config.OutputFormat;
import dev.ggda.data.Columns;
import dev.ggda.data.LoadedData;
import dev.ggda.grouping.Groups;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.math.Seeds;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Helpers the app jobs share: JSON files in the run folder, group_values on the driver, seeded
 * splits.
 */
final class AppSupport {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AppSupport() {}

  static void writeJson(RunOutput out, String relative, Object value) {
    try {
      out.writeText(relative, JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + relative + ": " + e.getMessage(), e);
    }
  }

  /** group_values rows (m x 4 numbers and the group's name: small) on the driver. */
  static List<GroupValue> groupValues(Dataset<Row> table) {
    List<GroupValue> values = new ArrayList<>();
    org.apache.spark.sql.Column key =
        Groups.hasKey(table)
            ? functions.col(Columns.GROUP_KEY).cast("string")
            : functions.lit(null).cast("string");
    for (Row r :
        table
            .select(
                functions.col(Columns.GROUP_ID),
                functions.col(Columns.SIZE),
                functions.col(Columns.VALUE),
                functions.col(Columns.VALUE_PER_EXAMPLE),
                key)
            .collectAsList()) {
      values.add(
          new GroupValue(
              r.getLong(0), r.getLong(1), r.getDouble(2), r.getDouble(3), r.getString(4)));
    }
    return values;
  }

  /**
   * A named group for the console: "'vendor-a' (group 3)", the value quoted with control characters
   * escaped and long values cut, so that any value stays on one line.
   */
  static String groupName(String key, long groupId) {
    if (key == null) {
      return "null (group " + groupId + ")";
    }
    String v = key.length() > 40 ? key.substring(0, 40) + "..." : key;
    StringBuilder b = new StringBuilder("'");
    v.codePoints()
        .forEach(
            cp -> {
              if (cp < 0x20 || cp == 0x7f) {
                b.append(String.format("\\u%04x", cp));
              } else {
                b.appendCodePoint(cp);
              }
            });
    return b.append("' (group ").append(groupId).append(')').toString();
  }

  static Dataset<Row> read(SparkSession spark, RunOutput out, String table, OutputFormat format) {
    return Tables.read(spark, out.path(table), format);
  }

  /**
   * Splits a loaded table by a seeded hash of the id: rows with u(seed, id) below {@code fraction}
   * go to the second part. The split does not depend on partitioning.
   */
  static LoadedData[] split(LoadedData data, double fraction, long seed) {
    var u =
        org.apache.spark.sql.functions.udf(
            (UDF1<Long, Double>) id -> Seeds.unit(Seeds.mix(seed, id)), DataTypes.DoubleType);
    Dataset<Row> ex =
        data.examples()
            .withColumn("_u", u.apply(org.apache.spark.sql.functions.col(Columns.EXAMPLE_ID)));
    Dataset<Row> first = ex.where("_u >= " + fraction).drop("_u");
    Dataset<Row> second = ex.where("_u < " + fraction).drop("_u");
    return new LoadedData[] {
      new LoadedData(first, data.dim(), data.classes(), first.count()),
      new LoadedData(second, data.dim(), data.classes(), second.count())
    };
  }
}
