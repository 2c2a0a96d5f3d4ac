package dev.ggda.io;

import java.util.Arrays;

/**
 * A dense array as stored in one .npy file: a C-order (row-major) shape and either float32 or
 * float64 values. Exactly one of {@link #floats()} / {@link #doubles()} backs it, matching {@link
 * #dtype()}; accessors return the backing arrays without copying (these arrays can be large).
 */
public final class NpyArray {

  /** The two element types ggda reads and writes, with their NumPy descriptors. */
  public enum DType {
    FLOAT32("<f4", 4),
    FLOAT64("<f8", 8);

    private final String descr;
    private final int bytes;

    DType(String descr, int bytes) {
      this.descr = descr;
      this.bytes = bytes;
    }

    /** NumPy's little-endian descriptor, e.g. {@code <f4}. */
    public String descr() {
      return descr;
    }

    public int bytes() {
      return bytes;
    }
  }

  private final long[] shape;
  private final DType dtype;
  private final float[] floats;
  private final double[] doubles;

  private NpyArray(long[] shape, DType dtype, float[] floats, double[] doubles) {
    this.shape = shape.clone();
    this.dtype = dtype;
    this.floats = floats;
    this.doubles = doubles;
    long n = elementCount(this.shape);
    int have = floats != null ? floats.length : doubles.length;
    if (n != have) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + have);
    }
  }

  /**
   * Wraps {@code data} (not copied) as a float32 array of the given shape ({@code ()} = scalar).
   */
  public static NpyArray ofFloats(float[] data, long... shape) {
    return new NpyArray(shape, DType.FLOAT32, data, null);
  }

  /**
   * Wraps {@code data} (not copied) as a float64 array of the given shape ({@code ()} = scalar).
   */
  public static NpyArray ofDoubles(double[] data, long... shape) {
    return new NpyArray(shape, DType.FLOAT64, null, data);
  }

  /** Product of the dimensions; -1 when a dimension is negative or the product overflows a long. */
  static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      if (d != 0 && n > Long.MAX_VALUE / d) {
        return -1;
      }
      n *= d;
    }
    return n;
  }

  public long[] shape() {
    return shape.clone();
  }

  public DType dtype() {
    return dtype;
  }

  public long size() {
    return elementCount(shape);
  }

  /** The float32 backing array, or null for a float64 array. */
  public float[] floats() {
    return floats;
  }

  /** The float64 backing array, or null for a float32 array. */
  public double[] doubles() {
    return doubles;
  }

  /** The values as float32: the backing array itself for FLOAT32, a rounded copy for FLOAT64. */
  public float[] toFloats() {
    if (floats != null) {
      return floats;
    }
    float[] out = new float[doubles.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) doubles[i];
    }
    return out;
  }

  /** The values as float64: the backing array itself for FLOAT64, an exact copy for FLOAT32. */
  public double[] toDoubles() {
    if (doubles != null) {
      return doubles;
    }
    double[] out = new double[floats.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = floats[i];
    }
    return out;
  }

  public boolean hasShape(long... expected) {
    return Arrays.equals(shape, expected);
  }

  /** The shape as NumPy prints it: {@code (3, 4)}, {@code (5,)}, {@code ()}. */
  public static String shapeString(long[] shape) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(shape[i]);
    }
    if (shape.length == 1) {
      sb.append(',');
    }
    return sb.append(')').toString();
  }

  @Override
  public String toString() {
    return "NpyArray[" + dtype.descr + " " + shapeString(shape) + "]";
  }
}
