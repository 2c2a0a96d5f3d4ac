package dev.ggda.io;

import dev.ggda.config.OutputFormat;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/** Writes the output tables of DESIGN.md section 6 as Parquet (default) or CSV with a header. */
public final class Tables {
  private Tables() {}

  public static void write(Dataset<Row> table, String path, OutputFormat format) {
    var writer = table.write().mode(SaveMode.Overwrite);
    switch (format) {
      case PARQUET -> writer.parquet(path);
      case CSV -> writer.option("header", "true").csv(path);
    }
  }

  public static Dataset<Row> read(org.apache.spark.sql.SparkSession spark, String path, OutputFormat format) {
    return switch (format) {
      case PARQUET -> spark.read().parquet(path);
      case CSV -> spark.read().option("header", "true").option("inferSchema", "true").csv(path);
    };
  }
}
