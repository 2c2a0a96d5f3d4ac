package dev.ggda.math;

import java.lang.ref.Reference;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row-major copies between ND4J arrays and Java arrays: the float[]/double[] edge of the math core.
 * Copies go through the native buffer's NIO view in bulk: ND4J M2.1's {@code Nd4j.create(float[])}
 * stores element by element (2-3x slower on 100 MB blocks), and {@code toFloatVector} of a view
 * copies twice.
 */
public final class Flat {
  private Flat() {}

  public static float[] floats(INDArray a) {
    INDArray c = dense(a);
    if (c.dataType() != DataType.FLOAT) {
      return c.dup('c').reshape(c.length()).toFloatVector();
    }
    float[] out = new float[Math.toIntExact(c.length())];
    floatView(c).get(out);
    // The NIO view does not keep the array alive; its native memory must outlive the copy.
    Reference.reachabilityFence(c);
    return out;
  }

  public static double[] doubles(INDArray a) {
    INDArray c = dense(a);
    if (c.dataType() != DataType.DOUBLE) {
      return c.dup('c').reshape(c.length()).toDoubleVector();
    }
    double[] out = new double[Math.toIntExact(c.length())];
    doubleView(c).get(out);
    Reference.reachabilityFence(c);
    return out;
  }

  /** A new (rows x cols) float matrix holding {@code v[off .. off + rows*cols)} row-major. */
  public static INDArray matrix(float[] v, int off, long rows, long cols) {
    INDArray out = Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, cols}, 'c');
    floatView(out).put(v, off, Math.toIntExact(rows * cols));
    Reference.reachabilityFence(out);
    return out;
  }

  public static INDArray matrix(float[] v, long rows, long cols) {
    return matrix(v, 0, rows, cols);
  }

  /** A new (rows x cols) double matrix holding {@code v} row-major. */
  public static INDArray matrix(double[] v, long rows, long cols) {
    INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {rows, cols}, 'c');
    doubleView(out).put(v, 0, Math.toIntExact(rows * cols));
    return out;
  }

  /**
   * The native storage of a freshly allocated, contiguous, row-major float array, positioned at its
   * first element (for bulk puts at offsets).
   */
  static FloatBuffer floatView(INDArray a) {
    FloatBuffer fb = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    fb.position(Math.toIntExact(a.offset()));
    return fb.slice();
  }

  private static DoubleBuffer doubleView(INDArray a) {
    DoubleBuffer db = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
    db.position(Math.toIntExact(a.offset()));
    return db.slice();
  }

  /** {@code a} itself when it is a contiguous row-major array of its own length, else a copy. */
  private static INDArray dense(INDArray a) {
    boolean ok =
        a.ordering() == 'c' && !a.isView() && a.data().length() == a.length() && a.offset() == 0;
    if (ok && a.rank() >= 1) {
      long expected = 1;
      long[] stride = a.stride();
      long[] shape = a.shape();
      for (int i = a.rank() - 1; i >= 0; i--) {
        if (shape[i] != 1 && stride[i] != expected) {
          ok = false;
          break;
        }
        expected *= shape[i];
      }
    }
    return ok ? a : a.dup('c');
  }
}
