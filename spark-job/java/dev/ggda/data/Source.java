package dev.ggda.data;

import dev.ggda.InputException;

/**
 * Which input we are reading ({@code role} is "train" or "targets") and where, for messages: every
 * user-facing error names the config key and the path so it can be fixed without a stack trace.
 */
record Source(String role, String path) {
  /** "data.train (file:/x.csv)": the prefix of every data-error message. */
  String at() {
    return path == null ? "data." + role : "data." + role + " (" + path + ")";
  }

  /** The config key of a field of this source, e.g. "data.train.label_col". */
  String key(String field) {
    return "data." + role + "." + field;
  }

  InputException error(String what) {
    return new InputException(at() + ": " + what);
  }
}
