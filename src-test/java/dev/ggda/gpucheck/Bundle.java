package dev.ggda.gpucheck;

import dev.ggda.config.ActivationKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.Featurizer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * What deploy/gpu-check carries to the GPU host besides the runtime and the jars: the workload's
 * data (Fashion-MNIST IDX files), the model, and the CPU backend's outputs on slices of it and on
 * {@link dev.ggda.cuda.FeaturizeCases} (the host has no ND4J to compute them). Plain Java: it is
 * read where only a JVM and the GPU are.
 */
final class Bundle {
  static final String META = "meta.properties";
  static final String MODEL = "model.bin";
  static final String REFERENCES = "references.bin.gz";
  static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
  static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
  static final String TARGET_IMAGES = "targets-images-idx3-ubyte.gz";
  static final String TARGET_LABELS = "targets-labels-idx1-ubyte.gz";
  static final String PTX = "kernels.ptx";

  /** Columns of the kernel sketch K V by which a k x k kernel is compared without carrying it. */
  static final int SKETCH = 8;

  private Bundle() {}

  /** Images as floats in [0, 1] (pixel / 255, as ggda's IDX reader), row-major, and the labels. */
  record Images(float[] x, int[] y, int dim) {
    int rows() {
      return y.length;
    }
  }

  static Images readIdx(Path images, Path labels, int limit) throws IOException {
    try (DataInputStream in =
        new DataInputStream(
            new BufferedInputStream(new GZIPInputStream(Files.newInputStream(images), 1 << 16)))) {
      int magic = in.readInt();
      if (magic != 0x803) {
        throw new IOException(
            images + ": not an IDX image file (magic " + Integer.toHexString(magic) + ")");
      }
      int n = Math.min(in.readInt(), limit);
      int dim = in.readInt() * in.readInt();
      byte[] pixels = new byte[n * dim];
      in.readFully(pixels);
      float[] x = new float[n * dim];
      for (int i = 0; i < x.length; i++) {
        x[i] = (pixels[i] & 0xff) / 255f;
      }
      return new Images(x, readLabels(labels, n), dim);
    }
  }

  private static int[] readLabels(Path labels, int n) throws IOException {
    try (DataInputStream in =
        new DataInputStream(
            new BufferedInputStream(new GZIPInputStream(Files.newInputStream(labels))))) {
      if (in.readInt() != 0x801) {
        throw new IOException(labels + ": not an IDX label file");
      }
      if (in.readInt() < n) {
        throw new IOException(labels + ": fewer labels than images");
      }
      byte[] b = new byte[n];
      in.readFully(b);
      int[] y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = b[i] & 0xff;
      }
      return y;
    }
  }

  /** Writes the first n rows of images (28 x 28) and labels as gzipped IDX files. */
  static void writeIdx(Images im, int n, Path images, Path labels) throws IOException {
    int side = (int) Math.round(Math.sqrt(im.dim()));
    try (DataOutputStream out =
        new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(images)))) {
      out.writeInt(0x803);
      out.writeInt(n);
      out.writeInt(side);
      out.writeInt(im.dim() / side);
      for (int i = 0; i < n * im.dim(); i++) {
        out.writeByte(Math.round(im.x()[i] * 255f));
      }
    }
    try (DataOutputStream out =
        new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(labels)))) {
      out.writeInt(0x801);
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeByte(im.y()[i]);
      }
    }
  }

  static Architecture architecture(Properties meta) {
    String[] hidden = meta.getProperty("hidden").split(",");
    return new Architecture(
        Integer.parseInt(meta.getProperty("input")),
        Arrays.stream(hidden).filter(s -> !s.isBlank()).mapToInt(Integer::parseInt).toArray(),
        Integer.parseInt(meta.getProperty("classes")),
        ActivationKind.valueOf(meta.getProperty("activation")));
  }

  static Properties meta(Path dir) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(dir.resolve(META))) {
      p.load(in);
    }
    return p;
  }

  static void writeFloats(Path file, float[] v) throws IOException {
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      out.writeInt(v.length);
      for (float f : v) {
        out.writeFloat(f);
      }
    }
  }

  static float[] readFloats(Path file) throws IOException {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      float[] v = new float[in.readInt()];
      for (int i = 0; i < v.length; i++) {
        v[i] = in.readFloat();
      }
      return v;
    }
  }

  /** K V for a seeded +-1 matrix V (k x SKETCH): compares two k x k kernels through 8 columns. */
  static double[] sketch(double[] kernel, int k) {
    SplittableRandom rnd = new SplittableRandom(k);
    double[] v = new double[k * SKETCH];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextBoolean() ? 1 : -1;
    }
    double[] out = new double[k * SKETCH];
    for (int r = 0; r < k; r++) {
      for (int t = 0; t < k; t++) {
        double a = kernel[r * k + t];
        for (int c = 0; c < SKETCH; c++) {
          out[r * SKETCH + c] += a * v[t * SKETCH + c];
        }
      }
    }
    return out;
  }

  /**
   * Named arrays (float[], double[], int[], long[]) written to and read from one gzipped stream.
   */
  static final class Entries {
    final Map<String, Object> values = new LinkedHashMap<>();

    void put(String name, Object array) {
      values.put(name, array);
    }

    float[] floats(String name) {
      return (float[]) need(name);
    }

    double[] doubles(String name) {
      return (double[]) need(name);
    }

    int[] ints(String name) {
      return (int[]) need(name);
    }

    long[] longs(String name) {
      return (long[]) need(name);
    }

    boolean has(String name) {
      return values.containsKey(name);
    }

    private Object need(String name) {
      Object v = values.get(name);
      if (v == null) {
        throw new IllegalArgumentException(
            "the bundle has no reference " + name + "; rebuild it (deploy/gpu-check build)");
      }
      return v;
    }

    /**
     * Stores a featurize output under {@code name}; kernels wider than 256 are stored as their
     * sketch (a 2,048 x 2,048 kernel is 32 MB).
     */
    void putOutput(String name, Featurizer.Output o, int k) {
      put(name + ".groupIds", o.groupIds());
      put(name + ".sizes", o.sizes());
      put(name + ".kernelRows", o.kernelRows());
      put(name + ".k", new int[] {k});
      for (int s = 0; s < o.loss().length; s++) {
        put(name + ".loss." + s, o.loss()[s]);
        if (o.margin() != null) {
          put(name + ".margin." + s, o.margin()[s]);
        }
        if (o.kernel() != null) {
          put(name + ".kernel." + s, k > 256 ? sketch(o.kernel()[s], k) : o.kernel()[s]);
        }
      }
    }

    /**
     * The stored output; a sketched kernel comes back as its sketch (compare with {@link
     * #kernelOf}).
     */
    Featurizer.Output output(String name, int slots) {
      float[][] loss = new float[slots][];
      float[][] margin = has(name + ".margin.0") ? new float[slots][] : null;
      double[][] kernel = has(name + ".kernel.0") ? new double[slots][] : null;
      for (int s = 0; s < slots; s++) {
        loss[s] = floats(name + ".loss." + s);
        if (margin != null) {
          margin[s] = floats(name + ".margin." + s);
        }
        if (kernel != null) {
          kernel[s] = doubles(name + ".kernel." + s);
        }
      }
      return new Featurizer.Output(
          longs(name + ".groupIds"),
          ints(name + ".sizes"),
          loss,
          margin,
          null,
          kernel,
          longs(name + ".kernelRows"));
    }

    /** A kernel as stored for {@code name}: itself, or its sketch when k > 256. */
    static double[] kernelOf(double[] kernel, int k) {
      return k > 256 ? sketch(kernel, k) : kernel;
    }

    void write(Path file) throws IOException {
      try (DataOutputStream out =
          new DataOutputStream(
              new BufferedOutputStream(
                  new GZIPOutputStream(Files.newOutputStream(file)), 1 << 16))) {
        for (Map.Entry<String, Object> e : values.entrySet()) {
          out.writeUTF(e.getKey());
          Object v = e.getValue();
          if (v instanceof float[] f) {
            out.writeByte('f');
            out.writeInt(f.length);
            for (float x : f) {
              out.writeFloat(x);
            }
          } else if (v instanceof double[] d) {
            out.writeByte('d');
            out.writeInt(d.length);
            for (double x : d) {
              out.writeDouble(x);
            }
          } else if (v instanceof int[] ints) {
            out.writeByte('i');
            out.writeInt(ints.length);
            for (int x : ints) {
              out.writeInt(x);
            }
          } else {
            long[] l = (long[]) v;
            out.writeByte('l');
            out.writeInt(l.length);
            for (long x : l) {
              out.writeLong(x);
            }
          }
        }
      }
    }

    static Entries read(Path file) throws IOException {
      Entries e = new Entries();
      try (DataInputStream in =
          new DataInputStream(
              new BufferedInputStream(new GZIPInputStream(Files.newInputStream(file)), 1 << 16))) {
        while (true) {
          String name;
          try {
            name = in.readUTF();
          } catch (EOFException end) {
            return e;
          }
          int kind = in.readByte();
          int n = in.readInt();
          switch (kind) {
            case 'f' -> {
              float[] v = new float[n];
              for (int i = 0; i < n; i++) {
                v[i] = in.readFloat();
              }
              e.put(name, v);
            }
            case 'd' -> {
              double[] v = new double[n];
              for (int i = 0; i < n; i++) {
                v[i] = in.readDouble();
              }
              e.put(name, v);
            }
            case 'i' -> {
              int[] v = new int[n];
              for (int i = 0; i < n; i++) {
                v[i] = in.readInt();
              }
              e.put(name, v);
            }
            default -> {
              long[] v = new long[n];
              for (int i = 0; i < n; i++) {
                v[i] = in.readLong();
              }
              e.put(name, v);
            }
          }
        }
      }
    }
  }

  static void copy(Path from, Path to) throws IOException {
    try (InputStream in = Files.newInputStream(from);
        OutputStream out = Files.newOutputStream(to)) {
      in.transferTo(out);
    }
  }
}
