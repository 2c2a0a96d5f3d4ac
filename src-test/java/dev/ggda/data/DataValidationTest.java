package dev.ggda.data;

import static dev.ggda.data.DataFixtures.assertInputError;
import static dev.ggda.data.DataFixtures.source;
import static dev.ggda.data.DataFixtures.write;

import dev.ggda.config.DataFormat;
import dev.ggda.config.DataSource;
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
 * Every kind of bad input is an InputException naming the key or path, the column and the first bad
 * row.
 */
class DataValidationTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  private DataSource csv(String name, String text) {
    return source(write(dir, name, text).toString(), DataFormat.CSV);
  }

  private String parquet(String name, StructType schema, List<Row> rows) {
    String path = dir.resolve(name).toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(path);
    return path;
  }

  private static void fails(DataSource s, Integer classes, String... fragments) {
    assertInputError(() -> DataLoader.load(SparkTestSession.get(), s, classes, "train"), fragments);
  }

  @Test
  void missingPath() {
    String p = dir.resolve("absent.csv").toString();
    fails(
        source(p, DataFormat.CSV),
        null,
        "data.train.path: no such file or directory: " + p,
        "scheme");
    fails(
        source("file://" + dir.resolve("nothing/*.parquet"), DataFormat.PARQUET),
        null,
        "no such file or directory");
  }

  @Test
  void emptyInputs() {
    fails(csv("header-only.csv", "id,label,x\n"), null, "data.train", "header-only.csv", "no rows");
    fails(csv("zero.csv", ""), null, "data.train", "zero.csv", "no columns");
    StructType schema =
        new StructType()
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType));
    fails(source(parquet("empty", schema, List.of()), DataFormat.PARQUET), null, "no rows");
    java.io.File emptyDir = dir.resolve("nothing-here").toFile();
    emptyDir.mkdirs();
    fails(
        source(emptyDir.toString(), DataFormat.PARQUET),
        null,
        "data.train",
        "nothing-here",
        "no rows",
        "no parquet data files");
  }

  @Test
  void missingOrMistypedColumns() {
    fails(
        csv("nolabel.csv", "id,y,x\n1,0,0.5\n"),
        null,
        "label column 'label' not found",
        "[id, y, x]",
        "data.train.label_col");
    fails(
        csv("strlabel.csv", "id,label,x\n1,cat,0.5\n2,dog,1\n"),
        null,
        "label column 'label' has type string",
        "integers");
    fails(
        csv("dblid.csv", "id,label,x\n1.5,0,0.5\n2,1,1\n"),
        null,
        "id column 'id' has type double",
        "integer type",
        "data.train.id_col");
    fails(
        DataFixtures.withGroup(csv("nogroup.csv", "label,x\n0,1\n1,2\n"), "source"),
        null,
        "group column 'source' not found",
        "data.train.group_col");
    fails(
        csv("nofeat.csv", "id,label,name\n1,0,a\n2,1,b\n"),
        null,
        "no features",
        "data.train.features_col");
    StructType schema =
        new StructType()
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.BooleanType));
    fails(
        source(
            parquet("boolfeat", schema, List.of(RowFactory.create(0, new boolean[] {true}))),
            DataFormat.PARQUET),
        null,
        "features column 'features' has type array<boolean>",
        "vector");
  }

  @Test
  void nonFiniteAndMissingFeaturesNameTheFirstRowAndTheIndex() {
    fails(
        csv("nan.csv", "id,label,a,b\n7,0,1,NaN\n2,1,2,NaN\n3,1,2,3\n"),
        null,
        "feature 1 (column 'b') is NaN",
        "at example_id 2 ",
        "nan.csv");
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType)
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
    fails(
        source(
            parquet(
                "inf",
                schema,
                List.of(
                    RowFactory.create(5L, 0, new double[] {0, 1, Double.NEGATIVE_INFINITY}),
                    RowFactory.create(9L, 1, new double[] {Double.POSITIVE_INFINITY, 1, 2}))),
            DataFormat.PARQUET),
        null,
        "feature 2 of features column 'features' is -Infinity",
        "at example_id 5");
    fails(
        csv("hole.csv", "id,label,a,b\n1,0,1,2\n4,1,,3\n"),
        null,
        "feature 0 (column 'a') is missing",
        "at example_id 4");
    fails(
        DataFixtures.withFeatures(csv("tokens.csv", "id,label,px\n1,0,1 2\n2,1,3 x\n"), "px"),
        null,
        "feature 1 of features column 'px' is missing",
        "at example_id 2");
  }

  @Test
  void badLabels() {
    fails(
        csv("range.csv", "id,label,x\n1,0,1\n8,5,1\n6,4,1\n"),
        3,
        "label column 'label' holds 4 at example_id 6",
        "outside [0, 3)",
        "range.csv");
    fails(
        csv("frac.csv", "id,label,x\n1,0,1\n2,1.5,1\n"),
        null,
        "label column 'label' holds 1.5 at example_id 2",
        "whole number");
    fails(csv("neg.csv", "id,label,x\n1,0,1\n2,-2,1\n"), null, "holds -2 at example_id 2");
    fails(
        csv("nulllabel.csv", "id,label,x\n1,0,1\n2,,1\n"),
        null,
        "label column 'label' is empty at example_id 2");
    fails(
        csv("oneclass.csv", "id,label,x\n1,0,1\n2,0,1\n"),
        null,
        "only the class 0",
        "one",
        "oneclass.csv");
  }

  @Test
  void raggedFeatures() {
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType)
            .add("label", DataTypes.IntegerType)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType));
    String p =
        parquet(
            "ragged",
            schema,
            List.of(
                RowFactory.create(3L, 0, new float[] {1, 2, 3}),
                RowFactory.create(1L, 1, new float[] {1, 2, 3}),
                RowFactory.create(8L, 1, new float[] {1, 2}),
                RowFactory.create(6L, 0, new float[] {1, 2, 3, 4})));
    fails(
        source(p, DataFormat.PARQUET),
        null,
        "ragged",
        "expected 3 values",
        "example_id 1",
        "got 4 at example_id 6");
  }

  @Test
  void duplicateAndNullIds() {
    fails(
        csv("dup.csv", "id,label,x\n1,0,1\n9,1,2\n9,0,3\n4,1,2\n4,0,3\n"),
        null,
        "id column 'id' holds example_id 4 more than once",
        "2 ids repeated",
        "data.train.id_col");
    fails(
        csv("nullid.csv", "id,label,x\n1,0,1\n,1,2\n"),
        null,
        "id column 'id' is null in 1 rows",
        "nullid.csv");
  }

  @Test
  void targetsMustMatchTheTrainingWidth() {
    assertInputError(
        () ->
            DataLoader.load(spark, csv("narrow.csv", "label,a,b\n0,1,2\n1,3,4\n"), 2, "targets", 3),
        "data.targets",
        "narrow.csv",
        "2 features but 3 are expected");
  }

  @Test
  void badConfigValues() {
    DataSource ok = csv("ok.csv", "label,a\n0,1\n1,2\n");
    fails(ok, 1, "data.classes: must be at least 2");
    fails(DataFixtures.withLimit(ok, 0), null, "data.train.limit");
    fails(
        new DataSource(null, DataFormat.CSV, "id", "label", "features", null, null, null, null),
        null,
        "data.train.path: required");
    fails(
        DataFixtures.withGroup(source("x", DataFormat.IDX), "g"),
        null,
        "data.train.group_col",
        "idx");
  }
}
