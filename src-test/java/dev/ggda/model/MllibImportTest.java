package dev.ggda.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains tiny MLlib models, saves them, imports them and checks that ggda's softmax reproduces
 * MLlib's own probability column.
 */
class MllibImportTest {
  private static final int N = 90;
  private static final int D = 4;

  @TempDir java.nio.file.Path tmp;

  /** Seeded Gaussian blobs (overlapping, so weights stay bounded) with labels 0..classes-1. */
  private static Dataset<Row> blobs(SparkSession spark, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      int y = i % classes;
      double[] x = new double[D];
      for (int j = 0; j < D; j++) {
        x[j] = r.nextGaussian() + (j % classes == y ? 1.5 : 0.0);
      }
      rows.add(RowFactory.create((double) y, Vectors.dense(x)));
    }
    StructType schema =
        new StructType()
            .add("label", DataTypes.DoubleType)
            .add("features", SQLDataTypes.VectorType());
    return spark.createDataFrame(rows, schema);
  }

  /** Saves, checks detection, imports, and compares probabilities on every row to 1e-6. */
  private TrainedModel saveImportAndCompare(
      SparkSession spark, Model<?> model, Dataset<Row> data, String name) throws IOException {
    String dir = tmp.resolve(name).toString();
    ((MLWritable) model).write().overwrite().save(dir);
    assertTrue(MllibImport.isMllibModel(dir, spark.sparkContext().hadoopConfiguration()));
    TrainedModel imported = MllibImport.load(spark, dir);
    assertEquals(1, imported.memberCount());
    Checkpoint cp = imported.finalCheckpoint(0);
    assertEquals(0L, cp.step());
    assertEquals(0.0, cp.learningRate());

    List<Row> out = model.transform(data).select("features", "probability").collectAsList();
    Architecture arch = imported.architecture();
    double[] flat = new double[cp.params().length];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = cp.params()[i];
    }
    Network net = Network.fromDoubles(arch, flat); // float64 forward over the float32 weights
    double[][] x = new double[out.size()][];
    for (int i = 0; i < x.length; i++) {
      x[i] = ((Vector) out.get(i).get(0)).toArray();
    }
    INDArray probs = Losses.softmax(net.logits(Nd4j.createFromArray(x)));
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      double[] expected = ((Vector) out.get(i).get(1)).toArray();
      assertEquals(arch.classes(), expected.length);
      for (int c = 0; c < expected.length; c++) {
        worst = Math.max(worst, Math.abs(expected[c] - probs.getDouble(i, c)));
      }
    }
    assertTrue(worst < 1e-6, name + ": max |p_mllib - p_ggda| = " + worst);
    return imported;
  }

  @Test
  void logisticRegressionMultinomialAndBinomialMatchMllibProbabilities() throws IOException {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> three = blobs(spark, 3, 1).cache();
    LogisticRegression lr =
        new LogisticRegression().setMaxIter(15).setRegParam(0.05).setElasticNetParam(0.2);
    TrainedModel multi =
        saveImportAndCompare(spark, lr.setFamily("multinomial").fit(three), three, "lr-multi");
    assertEquals(Architecture.logistic(D, 3), multi.architecture());
    assertEquals(0.05 * 0.8, multi.l2(), 1e-15);

    Dataset<Row> two = blobs(spark, 2, 2).cache();
    TrainedModel bin =
        saveImportAndCompare(spark, lr.setFamily("binomial").fit(two), two, "lr-binomial");
    assertEquals(Architecture.logistic(D, 2), bin.architecture());
    // Class 0's logit is identically 0: its weight column and bias are zero.
    float[] p = bin.finalCheckpoint(0).params();
    for (int i = 0; i < D; i++) {
      assertEquals(0f, p[i * 2]);
    }
    assertEquals(0f, p[(int) bin.architecture().biasOffset(0)]);
    three.unpersist();
    two.unpersist();
  }

  @Test
  void multilayerPerceptronMatchesMllibProbabilities() throws IOException {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> data = blobs(spark, 3, 3).cache();
    MultilayerPerceptronClassifier mlp =
        new MultilayerPerceptronClassifier()
            .setLayers(new int[] {D, 5, 4, 3})
            .setMaxIter(15)
            .setSeed(11);
    TrainedModel imported = saveImportAndCompare(spark, mlp.fit(data), data, "mlp");
    assertEquals(
        new Architecture(D, new int[] {5, 4}, 3, ActivationKind.SIGMOID), imported.architecture());
    assertEquals(0.0, imported.l2());
    data.unpersist();
  }

  @Test
  void otherModelClassesAreRejectedWithTheSupportedList() throws IOException {
    // A fake metadata file is enough: the class is checked before anything is loaded.
    java.nio.file.Path meta = tmp.resolve("nb/metadata");
    Files.createDirectories(meta);
    Files.writeString(
        meta.resolve("part-00000"),
        "{\"class\":\"org.apache.spark.ml.classification.NaiveBayesModel\",\"timestamp\":1,\"sparkVersion\":\"4.2.0\","
            + "\"uid\":\"nb_1\",\"paramMap\":{}}\n",
        StandardCharsets.UTF_8);
    String dir = tmp.resolve("nb").toString();
    assertTrue(MllibImport.isMllibModel(dir, new Configuration()));
    InputException e =
        assertThrows(InputException.class, () -> MllibImport.load(SparkTestSession.get(), dir));
    assertTrue(
        e.getMessage()
            .startsWith(
                "model.load: "
                    + dir
                    + " is a org.apache.spark.ml.classification.NaiveBayesModel"
                    + " model; ggda imports LogisticRegressionModel and MultilayerPerceptronClassificationModel"),
        e.getMessage());

    // Not an MLlib folder at all: ggda's own format, or nothing.
    String ggda = tmp.resolve("ggda").toString();
    ModelStore.save(
        new TrainedModel(
            Architecture.logistic(2, 2),
            0,
            List.of(List.of(new Checkpoint(0, 0, 0, 0, 0, new float[6])))),
        ggda,
        new Configuration());
    assertFalse(MllibImport.isMllibModel(ggda, new Configuration()));
    assertFalse(MllibImport.isMllibModel(tmp.resolve("absent").toString(), new Configuration()));
    InputException none =
        assertThrows(InputException.class, () -> MllibImport.load(SparkTestSession.get(), ggda));
    assertTrue(none.getMessage().contains("no metadata/part-* file"), none.getMessage());
  }
}
