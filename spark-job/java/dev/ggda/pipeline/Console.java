package dev.ggda.pipeline;

import java.io.PrintStream;
import java.util.Locale;

/** User-facing progress and result lines ("ggda: ..."), apart from Spark's own logging. */
public final class Console {
  private final PrintStream out;

  public Console(PrintStream out) {
    this.out = out;
  }

  public static Console stdout() {
    return new Console(System.out);
  }

  public void info(String format, Object... args) {
    out.println("ggda: " + String.format(Locale.ROOT, format, args));
    out.flush();
  }
}
