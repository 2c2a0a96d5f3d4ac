package dev.ggda;

/**
 * A problem with what the user gave us (config, data, model file, output path): the run stops with
 * exit code 2 and this message, which names the offending field and how to fix it. Anything else
 * that goes wrong is a runtime failure (exit code 1).
 */
public class InputException extends RuntimeException {
  public InputException(String message) {
    super(message);
  }

  public InputException(String message, Throwable cause) {
    super(message, cause);
  }
}
