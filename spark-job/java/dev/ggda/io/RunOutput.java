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

  private final FileSystem fs;
  private final Path finalPath;
  private final Path staging;
  private boolean committed;

  private RunOutput(FileSystem fs, Path finalPath, Path staging) {
    this.fs = fs;
    this.finalPath = finalPath;
    this.staging = staging;
  }

  /**
   * Checks the final path against the output mode and creates a fresh staging folder. With mode
   * error an existing non-empty output is refused before any work is done.
   */
  public static RunOutput open(String path, OutputMode mode, Configuration conf) {
    try {
      if (mode == OutputMode.RESUME) {
        throw new InputException(
            "output.mode: resume is not available in this version (reuse of completed stages is planned); use error or overwrite");
      }
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      Path qualified = fs.makeQualified(p);
      if (mode == OutputMode.ERROR && fs.exists(qualified) && !isEmptyDir(fs, qualified)) {
        String what = fs.exists(new Path(qualified, SUCCESS)) ? "holds a completed run" : "already exists";
        throw new InputException(
            "output.path " + path + " " + what + "; set output.mode: overwrite (or --set output.mode=overwrite), or choose another output.path");
      }
      Path parent = qualified.getParent();
      Path staging = new Path(parent, "." + qualified.getName() + ".staging-" + UUID.randomUUID());
      fs.mkdirs(staging);
      return new RunOutput(fs, qualified, staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare output.path " + path + ": " + e.getMessage(), e);
    }
  }

  private static boolean isEmptyDir(FileSystem fs, Path p) throws IOException {
    return fs.getFileStatus(p).isDirectory() && fs.listStatus(p).length == 0;
  }

  /** The final output path, fully qualified. */
  public String finalPath() {
    return finalPath.toString();
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
      throw new UncheckedIOException("cannot write " + relative + " under " + staging + ": " + e.getMessage(), e);
    }
  }

  /** Marks the run complete and moves it into place, replacing a previous output if there is one. */
  public void commit() {
    try {
      writeText(SUCCESS, "");
      Path old = null;
      if (fs.exists(finalPath)) {
        old = new Path(finalPath.getParent(), "." + finalPath.getName() + ".old-" + UUID.randomUUID());
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
      throw new UncheckedIOException("cannot commit output to " + finalPath + ": " + e.getMessage(), e);
    }
  }

  /** Removes the staging folder of a run that did not complete; the final path is left as it was. */
  public void abort() {
    if (committed) {
      return;
    }
    try {
      fs.delete(staging, true);
    } catch (IOException e) {
      // Best effort: a leftover hidden staging folder is harmless and never looks complete.
    }
  }
}
