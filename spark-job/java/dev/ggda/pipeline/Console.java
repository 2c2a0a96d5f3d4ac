package dev.ggda.pipeline;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * User-facing progress and result lines, logged through SLF4J like everything else: the logger
 * {@code ggda}, which conf/log4j2.properties prints to stdout as {@code ggda: ...} for the CLI and
 * which lands in the driver log of a cluster job or a notebook's log with any other configuration.
 */
public final class Console {
  private static final Logger LOG = LoggerFactory.getLogger("ggda");
  private static final Console INSTANCE = new Console();

  private Console() {}

  /** The progress channel. */
  public static Console progress() {
    return INSTANCE;
  }

  public void info(String format, Object... args) {
    if (LOG.isInfoEnabled()) {
      LOG.info(String.format(Locale.ROOT, format, args));
    }
  }
}
