package dev.ggda.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ggda.InputException;
import dev.ggda.config.ActivationKind;
import dev.ggda.math.Architecture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.SparkSession;

/**
 * Imports a saved Spark MLlib classifier as a one-member, one-checkpoint {@link TrainedModel} (step
 * 0, learning rate 0: there is no training history to replay, so TracIn over it reduces to nothing
 * and the single-model methods are what apply).
 *
 * <ul>
 *   <li>{@link LogisticRegressionModel}, multinomial: W[i][c] = coefficientMatrix(c, i), b =
 *       interceptVector. Binomial: two classes with logits [0, w.x + b], whose softmax is MLlib's
 *       [1 - sigmoid(w.x + b), sigmoid(w.x + b)].
 *   <li>{@link MultilayerPerceptronClassificationModel}: MLlib's affine layer stores its weights as
 *       a column-major (out x in) matrix followed by the bias, which is byte for byte ggda's
 *       row-major (in x out) W_l then b_l, so the flat weight vector is copied as is. Hidden layers
 *       are sigmoid, the output softmax: {@link ActivationKind#SIGMOID}.
 * </ul>
 *
 * <p>l2: MLlib's MLP has no regularisation (0). For logistic regression we carry regParam * (1 -
 * elasticNetParam), MLlib's L2 coefficient; it matches ggda's lambda exactly only with
 * standardization off, because MLlib penalises standardised coefficients and never the intercept.
 */
public final class MllibImport {
  public static final String LOGISTIC =
      "org.apache.spark.ml.classification.LogisticRegressionModel";
  public static final String MLP =
      "org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel";

  private static final ObjectMapper JSON = new ObjectMapper();

  private MllibImport() {}

  /** True when {@code dir} holds an MLlib model: a {@code metadata/part-*} JSON with a "class". */
  public static boolean isMllibModel(String dir, Configuration hadoopConf) {
    try {
      return metadataClass(dir, hadoopConf) != null;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Loads the MLlib model saved under {@code dir} and converts it. */
  public static TrainedModel load(SparkSession spark, String dir) {
    String cls;
    try {
      cls = metadataClass(dir, spark.sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new InputException(
          "model.load: cannot read MLlib metadata under " + dir + ": " + e.getMessage());
    }
    if (cls == null) {
      throw new InputException(
          "model.load: "
              + dir
              + " has no metadata/part-* file naming a \"class\"; "
              + "expected a folder written by an MLlib model's save()");
    }
    try {
      if (LOGISTIC.equals(cls)) {
        return fromLogisticRegression(LogisticRegressionModel.read().session(spark).load(dir));
      }
      if (MLP.equals(cls)) {
        return fromMultilayerPerceptron(
            MultilayerPerceptronClassificationModel.read().session(spark).load(dir));
      }
    } catch (InputException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new InputException(
          "model.load: could not read the MLlib "
              + simpleName(cls)
              + " at "
              + dir
              + " ("
              + e.getMessage()
              + "); re-save it with model.write().save()",
          e);
    }
    String hint =
        cls.endsWith(".PipelineModel")
            ? " (for a PipelineModel, point model.load at its classifier stage folder under stages/; ggda feeds the"
                + " features column to it directly, so earlier stages must already be applied to the data)"
            : "";
    throw new InputException(
        "model.load: "
            + dir
            + " is a "
            + cls
            + " model; ggda imports LogisticRegressionModel"
            + " and MultilayerPerceptronClassificationModel (or its own model/ folder)"
            + hint);
  }

  /** Converts an in-memory logistic regression model (see the class comment for the mapping). */
  public static TrainedModel fromLogisticRegression(LogisticRegressionModel lr) {
    int k = lr.numClasses();
    int d = lr.numFeatures();
    Matrix coef = lr.coefficientMatrix();
    Vector icpt = lr.interceptVector();
    if (k < 2) {
      throw new InputException(
          "model.load: the LogisticRegressionModel has "
              + k
              + " class; ggda needs a classifier over at least 2 classes");
    }
    Architecture arch = Architecture.logistic(d, k);
    double[] p = new double[Math.toIntExact(arch.paramCount())];
    int bOff = (int) arch.biasOffset(0);
    if (coef.numRows() == k) {
      for (int i = 0; i < d; i++) {
        for (int c = 0; c < k; c++) {
          p[i * k + c] = coef.apply(c, i);
        }
      }
      for (int c = 0; c < k; c++) {
        p[bOff + c] = icpt.apply(c);
      }
    } else if (coef.numRows() == 1 && k == 2) {
      // Binomial: class 0 gets a constant 0 logit; softmax([0, m]) = [1 - sigmoid(m), sigmoid(m)].
      for (int i = 0; i < d; i++) {
        p[i * 2 + 1] = coef.apply(0, i);
      }
      p[bOff + 1] = icpt.apply(0);
    } else {
      throw new InputException(
          "model.load: the LogisticRegressionModel has a "
              + coef.numRows()
              + " x "
              + coef.numCols()
              + " coefficient matrix for "
              + k
              + " classes; expected "
              + k
              + " rows (multinomial) or 1 row"
              + " with 2 classes (binomial)");
    }
    double l2 = lr.getRegParam() * (1 - lr.getElasticNetParam());
    return single(arch, l2, toFloats(p, "LogisticRegressionModel"));
  }

  /** Converts an in-memory multilayer perceptron (see the class comment for the layout). */
  public static TrainedModel fromMultilayerPerceptron(MultilayerPerceptronClassificationModel mlp) {
    int[] layers = mlp.getLayers();
    if (layers.length < 2) {
      throw new InputException(
          "model.load: the MultilayerPerceptronClassificationModel has layers "
              + Arrays.toString(layers)
              + "; expected at least [inputs, classes]");
    }
    Architecture arch =
        new Architecture(
            layers[0],
            Arrays.copyOfRange(layers, 1, layers.length - 1),
            layers[layers.length - 1],
            ActivationKind.SIGMOID);
    double[] w = mlp.weights().toArray();
    if (w.length != arch.paramCount()) {
      throw new InputException(
          "model.load: the MultilayerPerceptronClassificationModel with layers "
              + Arrays.toString(layers)
              + " has "
              + w.length
              + " weights; that topology needs "
              + arch.paramCount());
    }
    return single(arch, 0.0, toFloats(w, "MultilayerPerceptronClassificationModel"));
  }

  private static TrainedModel single(Architecture arch, double l2, float[] params) {
    return new TrainedModel(arch, l2, List.of(List.of(new Checkpoint(0, 0, 0L, 0, 0.0, params))));
  }

  private static float[] toFloats(double[] v, String what) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
      if (!Float.isFinite(f[i])) {
        throw new InputException(
            "model.load: the "
                + what
                + " has a weight "
                + v[i]
                + " that is not finite in float32; ggda cannot use it");
      }
    }
    return f;
  }

  /** The "class" of the first metadata/part-* file's JSON, or null when there is none. */
  static String metadataClass(String dir, Configuration conf) throws IOException {
    Path pattern = new Path(new Path(dir, "metadata"), "part-*");
    FileSystem fs = pattern.getFileSystem(conf);
    FileStatus[] parts = fs.globStatus(pattern);
    if (parts == null || parts.length == 0) {
      return null;
    }
    Arrays.sort(parts, Comparator.comparing(s -> s.getPath().getName()));
    for (FileStatus part : parts) {
      // saveAsTextFile writes one JSON line; empty trailing parts can exist.
      try (BufferedReader r =
          new BufferedReader(
              new InputStreamReader(fs.open(part.getPath()), StandardCharsets.UTF_8))) {
        String line = r.readLine();
        if (line == null || line.isBlank()) {
          continue;
        }
        JsonNode node = JSON.readTree(line);
        JsonNode cls = node == null ? null : node.get("class");
        return cls != null && cls.isTextual() ? cls.asText() : null;
      }
    }
    return null;
  }

  private static String simpleName(String cls) {
    return cls.substring(cls.lastIndexOf('.') + 1);
  }
}
