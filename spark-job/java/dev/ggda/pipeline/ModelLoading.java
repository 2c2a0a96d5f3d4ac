package dev.ggda.pipeline;

import dev.ggda.InputException;
import dev.ggda.data.LoadedData;
import dev.ggda.math.Architecture;
import dev.ggda.model.MllibImport;
import dev.ggda.model.ModelStore;
import dev.ggda.model.TrainedModel;
import org.apache.spark.sql.SparkSession;

/** model.load: a saved ggda model or an MLlib model, checked against the data it will see. */
final class ModelLoading {
  private ModelLoading() {}

  static TrainedModel load(SparkSession spark, String path, LoadedData train) {
    var conf = spark.sparkContext().hadoopConfiguration();
    TrainedModel model =
        MllibImport.isMllibModel(path, conf)
            ? MllibImport.load(spark, path)
            : ModelStore.load(path, conf);
    return checked(model, "model.load: " + path, train);
  }

  /** The model, after checking that it takes the data's features and predicts its classes. */
  static TrainedModel checked(TrainedModel model, String what, LoadedData train) {
    Architecture a = model.architecture();
    if (a.inputDim() != train.dim()) {
      throw new InputException(
          what
              + " expects "
              + a.inputDim()
              + " input features but data.train has "
              + train.dim()
              + "; use a model trained on data of this shape, or unset model.load to train one");
    }
    if (a.classes() != train.classes()) {
      throw new InputException(
          what
              + " predicts "
              + a.classes()
              + " classes but the data has "
              + train.classes()
              + "; set data.classes to "
              + a.classes()
              + " or use a matching model");
    }
    return model;
  }
}
