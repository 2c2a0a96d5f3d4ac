package dev.ggda.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ggda.testing.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class DataLocalTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void collectOrdersByIdAcrossPartitions() {
    List<Row> rows = new ArrayList<>();
    long[] ids = {50, 3, 17, 8, 42, 1, 99};
    for (long id : ids) rows.add(RowFactory.create(id, (int) (id % 4), new float[] {id, -id}));
    Dataset<Row> df = spark.createDataFrame(rows, Columns.schema(false)).repartition(3);
    LocalData d = LocalData.collect(new LoadedData(df, 2, 4, ids.length));
    assertArrayEquals(new long[] {1, 3, 8, 17, 42, 50, 99}, d.ids());
    assertArrayEquals(new int[] {1, 3, 0, 1, 2, 2, 3}, d.labels());
    assertArrayEquals(new float[] {17, -17}, d.row(3));
    assertEquals(2, d.dim());
  }

  @Test
  void selectPicksRowsInTheGivenOrder() {
    LocalData d =
        new LocalData(new long[] {1, 2, 3}, new int[] {0, 1, 2}, new float[] {1, 1, 2, 2, 3, 3}, 2);
    LocalData s = d.select(new int[] {2, 0, 2});
    assertArrayEquals(new long[] {3, 1, 3}, s.ids());
    assertArrayEquals(new int[] {2, 0, 2}, s.labels());
    assertArrayEquals(new float[] {3, 3, 1, 1, 3, 3}, s.features());
  }
}
