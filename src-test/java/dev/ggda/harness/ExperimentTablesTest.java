package dev.ggda.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measurement tables of conf/experiments are generated from the JSON the commands wrote: the
 * renderer prints what the JSON says (protocol, rows, derived removal share), and every committed
 * document is what the generator makes of its JSON today.
 */
class ExperimentTablesTest {
  static final String RUN =
      """
      {"efficiency_fidelity": {"train_rows": 100,
        "protocol": {"seed_mode": "independent", "runs_per_subset": 5, "subsets": 50, "group_subsets": 20,
                     "fraction": 0.5, "targets": 500, "removal_fractions": [0.05, 0.2], "removal_seeds": 2},
        "rows": [
          {"method": "trak", "grouping": "per-example", "group_size": 1, "groups": 60000, "lds": 0.5966,
           "lds_one_run": 0.41, "removal_effect": 0.1269, "speedup": 1.0},
          {"method": "trak", "grouping": "kmeans-grad", "group_size": 16, "groups": 3750, "lds": 0.4,
           "lds_one_run": null, "removal_effect": 0.0634, "speedup": 2.56},
          {"method": "if", "mode": "hessian exact", "grouping": "per-example", "group_size": 1,
           "groups": 60000, "lds": 0.6, "removal_effect": 0.2, "speedup": 1.0,
           "attribution_seconds": 480.0, "grouping_seconds": 2.0},
          {"method": "if", "mode": "hessian group", "grouping": "per-example", "group_size": 1,
           "groups": 60000, "lds": 0.5, "removal_effect": 0.1, "speedup": 1.5},
          {"method": "if", "mode": "hessian group", "grouping": "kmeans-grad", "group_size": 16,
           "groups": 3750, "lds": 0.3, "removal_effect": 0.17, "speedup": 12.0,
           "attribution_seconds": 40.0, "solve_seconds": 3.0, "score_seconds": 1.0,
           "grouping_seconds": 30.0}]}}
      """;

  @Test
  void rendersTheProtocolAndTheRowsTheJsonHolds() throws Exception {
    String table =
        ExperimentTables.render(
            new ObjectMapper().readTree(RUN),
            List.of(
                "method", "grouping", "groups", "speedup", "lds", "lds_one_run", "removal_share"),
            "method=trak");
    assertEquals(
        """
        *Protocol:* LDS over m = 50 random subsets of alpha = 0.5 of the training set; group LDS over 20 random subsets \
        of alpha = 0.5 of the groups; independent retraining seeds, 5 runs per subset ("1 run" columns: the first run \
        of each subset alone); 500 targets; removal of 0.05, 0.2 of the examples with 2 paired seeds.

        | method | grouping | groups | speedup | LDS | LDS, 1 run | share of per-example removal |
        | --- | --- | --- | --- | --- | --- | --- |
        | trak | per-example | 60,000 | 1.0x | 0.597 | 0.410 | 100.0% |
        | trak | kmeans-grad | 3,750 | 2.6x | 0.400 | - | 50.0% |
        """,
        table);
  }

  /**
   * Removal shares and the speedup with grouping are against the first per-example row of the
   * method (the first mode listed), and the fixed share is solve + score over the attribution time.
   */
  @Test
  void sharesAreAgainstTheFirstModesPerExampleRow() throws Exception {
    String table =
        ExperimentTables.render(
            new ObjectMapper().readTree(RUN),
            List.of("mode", "group_size", "removal_share", "fixed_share", "speedup_with_grouping"),
            "method=if");
    assertEquals(
        true,
        table.endsWith(
            String.join(
                "\n",
                "| kernel / Hessian | group size | share of per-example removal | solve + score share"
                    + " | speedup with grouping |",
                "| --- | --- | --- | --- | --- |",
                "| hessian exact | 1 | 100.0% | - | 1.0x |",
                "| hessian group | 1 | 50.0% | - | - |",
                "| hessian group | 16 | 85.0% | 10.0% | 6.9x |",
                "")),
        table);
  }

  @Test
  void theProtocolNamesOnlyTheMetricsTheRunMeasured() throws Exception {
    var json = new ObjectMapper();
    String line =
        ExperimentTables.protocol(
            json.readTree(RUN).at("/efficiency_fidelity/protocol"), json.readTree("[\"lds\"]"));
    assertEquals(
        "*Protocol:* LDS over m = 50 random subsets of alpha = 0.5 of the training set; independent"
            + " retraining seeds, 5 runs per subset (\"1 run\" columns: the first run of each subset alone); 500 targets.",
        line);
  }

  @Test
  void blocksAreRegeneratedInPlaceAndUnknownColumnsRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("run.json"), RUN);
    String doc =
        "# Title\n\ntext\n<!-- table: run.json columns=method,lds where=method=if -->\nstale\n<!-- end table -->\nafter\n";
    String once = ExperimentTables.regenerate(doc, dir);
    assertEquals(once, ExperimentTables.regenerate(once, dir), "regenerating is idempotent");
    assertEquals(true, once.contains("| if | 0.300 |\n<!-- end table -->\nafter\n"), once);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ExperimentTables.regenerate(
                "<!-- table: run.json columns=method,nonsense -->\n<!-- end table -->", dir));
  }

  @Test
  void anyArrayOfRowsIsTabledWithItsFormats(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("bench.json"),
        """
        {"results": [{"group_size": 1, "groups": 60000, "total_seconds": 267.4, "speedup": 1.0},
                     {"group_size": 64, "groups": 938, "total_seconds": 12.5, "speedup": 21.392, "note": "x",
                      "steps": {"merge_seconds": 2.25}}]}
        """);
    String doc =
        "<!-- table: bench.json#/results columns=group_size,groups,total_seconds:%.1f,speedup:%.1fx,note,steps/merge_seconds:%.2f -->\n"
            + "<!-- end table -->\n";
    assertEquals(
        """
        <!-- table: bench.json#/results columns=group_size,groups,total_seconds:%.1f,speedup:%.1fx,note,steps/merge_seconds:%.2f -->
        | group size | groups | total seconds | speedup | note | merge seconds |
        | --- | --- | --- | --- | --- | --- |
        | 1 | 60,000 | 267.4 | 1.0x | - | - |
        | 64 | 938 | 12.5 | 21.4x | x | 2.25 |
        <!-- end table -->
        """,
        ExperimentTables.regenerate(doc, dir));
  }

  @Test
  void everyExperimentDocumentMatchesItsJson() throws Exception {
    Path folder = Path.of(System.getProperty("ggda.project.dir", "."), "conf", "experiments");
    for (Path md : ExperimentTables.documents(folder)) {
      String text = Files.readString(md, StandardCharsets.UTF_8);
      assertEquals(
          ExperimentTables.regenerate(text, md.getParent()),
          text,
          md + " is out of date with its JSON: run deploy/ggda experiment-tables");
    }
  }
}
