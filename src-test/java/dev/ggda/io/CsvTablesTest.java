package dev.ggda.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.config.OutputFormat;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * output.format csv: a table with an array column (group_stats' label_counts) is written, the array
 * as JSON text.
 */
class CsvTablesTest {
  @Test
  void arrayColumnsBecomeJsonText(@TempDir Path dir) {
    SparkSession spark = SparkTestSession.get();
    StructType schema =
        new StructType()
            .add("group_id", DataTypes.LongType)
            .add("label_counts", DataTypes.createArrayType(DataTypes.LongType));
    var table =
        spark.createDataFrame(List.of(RowFactory.create(7L, new Long[] {3L, 0L, 5L})), schema);
    String path = dir.resolve("group_stats").toString();
    Tables.write(table, path, OutputFormat.CSV);
    Row back = Tables.read(spark, path, OutputFormat.CSV).collectAsList().get(0);
    assertEquals(7L, ((Number) back.getAs("group_id")).longValue());
    assertEquals("[3,0,5]", back.getAs("label_counts"));
  }
}
