package dev.ggda.testing;

import dev.ggda.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs the CLI in-process with `--set` overrides, capturing stdout and stderr together. */
public final class CliCapture {
  private CliCapture() {}

  public static int run(String command, List<String> sets, StringBuilder console, String... flags) {
    List<String> a = new ArrayList<>(List.of(command));
    a.addAll(List.of(flags));
    for (String s : sets) {
      a.add("--set");
      a.add(s);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    try {
      return Main.execute(a.toArray(new String[0]));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
      console.append(buf.toString(StandardCharsets.UTF_8));
    }
  }
}
