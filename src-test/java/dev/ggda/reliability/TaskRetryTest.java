package dev.ggda.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.cli.Main;
import dev.ggda.spark.FaultInjection;
import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Injected task failures (the first attempt of chosen featurize and score tasks throws) are retried
 * by Spark and change no score: featurize blocks and their order depend on ids only.
 */
class TaskRetryTest {
  @TempDir static Path tmp;

  static String[] args(Path out) {
    List<String> a = new ArrayList<>(List.of("run"));
    for (String s :
        List.of(
            "data.train.format=synthetic",
            "data.train.synthetic.n=800",
            "data.train.synthetic.dim=6",
            "data.train.synthetic.classes=3",
            "data.train.synthetic.seed=5",
            "data.targets.format=synthetic",
            "data.targets.synthetic.n=6",
            "data.targets.synthetic.dim=6",
            "data.targets.synthetic.classes=3",
            "data.targets.synthetic.seed=6",
            "data.classes=3",
            "model.kind=mlp",
            "model.hidden=[4]",
            "train.epochs=2",
            "group.method=random",
            "group.size=4",
            "attribute.method=trak",
            "attribute.projection.dim=16",
            "output.mode=overwrite",
            "output.path=" + out)) {
      a.add("--set");
      a.add(s);
    }
    return a.toArray(new String[0]);
  }

  static Map<String, Double> scores(Path out) {
    Map<String, Double> m = new TreeMap<>();
    for (Row r :
        SparkTestSession.get().read().parquet(out.resolve("scores").toString()).collectAsList()) {
      m.put(r.getAs("target_id") + "/" + r.getAs("group_id"), r.getAs("score"));
    }
    return m;
  }

  @Test
  void failedFirstAttemptsAreRetriedAndChangeNoScore() {
    var sc = SparkTestSession.get().sparkContext();
    Path clean = tmp.resolve("clean");
    assertEquals(0, Main.execute(args(clean)));
    int before = FaultInjection.FIRED.get();
    Path faulty = tmp.resolve("faulty");
    sc.setLocalProperty(FaultInjection.KEY, "featurize:0,1;score:0");
    try {
      assertEquals(0, Main.execute(args(faulty)));
    } finally {
      sc.setLocalProperty(FaultInjection.KEY, null);
    }
    // featurize runs for the targets and for the groups, score once: at least 3 injected failures.
    assertTrue(
        FaultInjection.FIRED.get() - before >= 3,
        "injected failures: " + (FaultInjection.FIRED.get() - before));
    Map<String, Double> want = scores(clean);
    Map<String, Double> got = scores(faulty);
    assertEquals(want.keySet(), got.keySet());
    for (var e : want.entrySet()) {
      assertEquals(
          e.getValue(),
          got.get(e.getKey()),
          1e-9 * Math.max(1e-12, Math.abs(e.getValue())),
          e.getKey());
    }
  }

  @Test
  void specSelectsStageAndPartition() {
    assertTrue(dev.ggda.spark.FaultInjectionSpec.selects("featurize:0,2;score:1", "featurize", 2));
    assertTrue(dev.ggda.spark.FaultInjectionSpec.selects("featurize:0,2;score:1", "score", 1));
    assertFalse(dev.ggda.spark.FaultInjectionSpec.selects("featurize:0,2;score:1", "score", 0));
    assertFalse(dev.ggda.spark.FaultInjectionSpec.selects("featurize:0,2", "group", 0));
  }
}
