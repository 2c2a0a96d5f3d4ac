package dev.ggda.apps;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ggda.config.OutputFormat;
import dev.ggda.data.LoadedData;
import dev.ggda.io.RunOutput;
import dev.ggda.io.Tables;
import dev.ggda.math.Seeds;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

/** Helpers the app jobs share: JSON files in the run folder, group_values on the driver, seeded splits. */
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

  /** group_values rows (m x 4 numbers: small) on the driver. */
  static List<GroupValue> groupValues(Dataset<Row> table) {
    List<GroupValue> values = new ArrayList<>();
    for (Row r : table.select("group_id", "size", "value", "value_per_example").collectAsList()) {
      values.add(new GroupValue(r.getLong(0), r.getLong(1), r.getDouble(2), r.getDouble(3)));
    }
    return values;
  }

  static Dataset<Row> read(SparkSession spark, RunOutput out, String table, OutputFormat format) {
    return Tables.read(spark, out.path(table), format);
  }

  /**
   * Splits a loaded table by a seeded hash of the id: rows with u(seed, id) below {@code fraction}
   * go to the second part. The split does not depend on partitioning.
   */
  static LoadedData[] split(LoadedData data, double fraction, long seed) {
    var u = org.apache.spark.sql.functions.udf((UDF1<Long, Double>) id -> Seeds.unit(Seeds.mix(seed, id)), DataTypes.DoubleType);
    Dataset<Row> ex = data.examples().withColumn("_u", u.apply(org.apache.spark.sql.functions.col("example_id")));
    Dataset<Row> first = ex.where("_u >= " + fraction).drop("_u");
    Dataset<Row> second = ex.where("_u < " + fraction).drop("_u");
    return new LoadedData[] {
      new LoadedData(first, data.dim(), data.classes(), first.count()),
      new LoadedData(second, data.dim(), data.classes(), second.count())
    };
  }
}
