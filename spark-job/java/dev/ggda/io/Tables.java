package dev.ggda.io;

import dev.ggda.config.OutputFormat;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/** Writes the output tables of DESIGN.md section 6 as Parquet (default) or CSV with a header. */
public final class Tables {
  private Tables() {}

  public static void write(Dataset<Row> table, String path, OutputFormat format) {
    if (format == OutputFormat.CSV) {
      // CSV has no array or struct type: such columns (group_stats' label_counts) are written as
      // JSON text.
      for (var field : table.schema().fields()) {
        if (field.dataType() instanceof org.apache.spark.sql.types.ArrayType
            || field.dataType() instanceof org.apache.spark.sql.types.StructType
            || field.dataType() instanceof org.apache.spark.sql.types.MapType) {
          table =
              table.withColumn(
                  field.name(),
                  org.apache.spark.sql.functions.to_json(
                      org.apache.spark.sql.functions.col(field.name())));
        }
      }
    }
    var writer = table.write().mode(SaveMode.Overwrite);
    switch (format) {
      case PARQUET -> writer.parquet(path);
      case CSV -> writer.option("header", "true").csv(path);
    }
  }

  public static Dataset<Row> read(
      org.apache.spark.sql.SparkSession spark, String path, OutputFormat format) {
    return switch (format) {
      case PARQUET -> spark.read().parquet(path);
      case CSV -> spark.read().option("header", "true").option("inferSchema", "true").csv(path);
    };
  }
}
