package dev.ggda.io;

import dev.ggda.InputException;
import dev.ggda.config.OutputMode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The output folder of one run, written atomically: everything goes to a hidden staging folder
 * beside the final path, and {@link #commit()} writes {@code _SUCCESS} there and renames it into
 * place. A run that dies leaves only the staging folder (never a folder that looks complete), and a
 * previous good output at the same path is replaced only at commit.
 */
public final class RunOutput {
  public static final String SUCCESS = "_SUCCESS";

  /** Completed-stage markers live under this folder of the staging area (removed at commit). */
  public static final String STAGES = "_stages";

  private final FileSystem fs;
  private final Path finalPath;
  private final Path staging;
  private final OutputMode mode;
  private final boolean resumed;
  private boolean committed;

  private RunOutput(FileSystem fs, Path finalPath, Path staging, OutputMode mode, boolean resumed) {
    this.fs = fs;
    this.finalPath = finalPath;
    this.staging = staging;
    this.mode = mode;
    this.resumed = resumed;
  }

  /** A fresh staging folder (no resume). */
  public static RunOutput open(String path, OutputMode mode, Configuration conf) {
    return open(path, mode, conf, UUID.randomUUID().toString());
  }

  /**
   * Checks the final path against the output mode and prepares the staging folder, named by {@code
   * fingerprint} (a hash of the resolved config): with mode resume an existing staging folder of
   * the same config is reused, so a rerun after a crash skips the stages it completed; other modes
   * start from an empty one. With mode error an existing non-empty output is refused before any
   * work.
   */
  public static RunOutput open(
      String path, OutputMode mode, Configuration conf, String fingerprint) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      Path qualified = fs.makeQualified(p);
      if (mode == OutputMode.ERROR && fs.exists(qualified) && !isEmptyDir(fs, qualified)) {
        String what =
            fs.exists(new Path(qualified, SUCCESS)) ? "holds a completed run" : "already exists";
        throw new InputException(
            "output.path "
                + path
                + " "
                + what
                + "; set output.mode: overwrite (or --set output.mode=overwrite), or choose another output.path");
      }
      Path parent = qualified.getParent();
      Path staging = new Path(parent, "." + qualified.getName() + ".staging-" + fingerprint);
      boolean resumed = false;
      if (fs.exists(staging)) {
        if (mode == OutputMode.RESUME) {
          resumed = true;
        } else {
          fs.delete(staging, true);
        }
      }
      fs.mkdirs(staging);
      return new RunOutput(fs, qualified, staging, mode, resumed);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot prepare output.path " + path + ": " + e.getMessage(), e);
    }
  }

  private static boolean isEmptyDir(FileSystem fs, Path p) throws IOException {
    return fs.getFileStatus(p).isDirectory() && fs.listStatus(p).length == 0;
  }

  /**
   * Whether this run continues the staging folder of an earlier, unfinished run of the same config.
   */
  public boolean resumed() {
    return resumed;
  }

  /**
   * Whether an earlier attempt of this run completed {@code stage} (its outputs are in staging).
   */
  public boolean stageDone(String stage) {
    try {
      return fs.exists(new Path(staging, STAGES + "/" + stage + "/_DONE"));
    } catch (IOException e) {
      return false;
    }
  }

  /** Records that {@code stage}'s outputs are complete in staging (written after them). */
  public void markStage(String stage) {
    writeText(STAGES + "/" + stage + "/_DONE", "");
    // Test-only: simulate a driver that dies right after a stage (resume tests).
    if (stage.equals(System.getProperty("ggda.test.failAfterStage"))) {
      throw new IllegalStateException(
          "test: stopping after stage " + stage + " (ggda.test.failAfterStage)");
    }
  }

  /** The final output path, fully qualified. */
  public String finalPath() {
    return finalPath.toString();
  }

  /** The staging folder itself. */
  public String stagingPath() {
    return staging.toString();
  }

  /** Path of {@code relative} inside the staging folder (where everything is written). */
  public String path(String relative) {
    return new Path(staging, relative).toString();
  }

  public FileSystem fileSystem() {
    return fs;
  }

  public void writeText(String relative, String text) {
    try (OutputStream out = fs.create(new Path(staging, relative), true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write " + relative + " under " + staging + ": " + e.getMessage(), e);
    }
  }

  /**
   * Marks the run complete and moves it into place, replacing a previous output if there is one.
   */
  public void commit() {
    try {
      fs.delete(new Path(staging, STAGES), true);
      writeText(SUCCESS, "");
      Path old = null;
      if (fs.exists(finalPath)) {
        old =
            new Path(
                finalPath.getParent(), "." + finalPath.getName() + ".old-" + UUID.randomUUID());
        if (!fs.rename(finalPath, old)) {
          throw new IOException("rename " + finalPath + " -> " + old + " failed");
        }
      }
      if (!fs.rename(staging, finalPath)) {
        if (old != null) {
          fs.rename(old, finalPath);
        }
        throw new IOException("rename " + staging + " -> " + finalPath + " failed");
      }
      if (old != null) {
        fs.delete(old, true);
      }
      committed = true;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot commit output to " + finalPath + ": " + e.getMessage(), e);
    }
  }

  /**
   * Removes the staging folder of a run that did not complete (kept with mode resume, for the
   * rerun); the final path is left as it was.
   */
  public void abort() {
    if (committed || mode == OutputMode.RESUME) {
      return;
    }
    try {
      fs.delete(staging, true);
    } catch (IOException e) {
      // Best effort: a leftover hidden staging folder is harmless and never looks complete.
    }
  }
}
