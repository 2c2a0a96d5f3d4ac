package dev.ggda.data;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import scala.collection.Seq;

/**
 * A small example table on the driver, ordered by example_id, for training on the driver. Arrays
 * are shared, not copied: treat them as read-only.
 *
 * @param ids example ids, ascending
 * @param labels class labels, one per example
 * @param features row-major n x dim
 * @param dim features per example
 */
public record LocalData(long[] ids, int[] labels, float[] features, int dim) {
  public LocalData {
    if (labels.length != ids.length || (long) ids.length * dim != features.length) {
      throw new IllegalArgumentException(
          "inconsistent sizes: "
              + ids.length
              + " ids, "
              + labels.length
              + " labels, "
              + features.length
              + " features for dim "
              + dim);
    }
  }

  public int size() {
    return ids.length;
  }

  /** The features of row {@code r} (a copy). */
  public float[] row(int r) {
    return Arrays.copyOfRange(features, r * dim, (r + 1) * dim);
  }

  /** The given rows, in the given order (e.g. a minibatch or an ensemble member's subset). */
  public LocalData select(int[] rows) {
    long[] i = new long[rows.length];
    int[] l = new int[rows.length];
    float[] f = new float[rows.length * dim];
    for (int k = 0; k < rows.length; k++) {
      int r = rows[k];
      i[k] = ids[r];
      l[k] = labels[r];
      System.arraycopy(features, r * dim, f, k * dim, dim);
    }
    return new LocalData(i, l, f, dim);
  }

  /**
   * Brings a loaded table to the driver. Each partition is packed into one byte[] on its executor
   * (so the driver never boxes a float), and the blocks are put in example_id order here, which
   * avoids a distributed sort.
   */
  public static LocalData collect(LoadedData data) {
    int dim = data.dim();
    if (data.count() * (long) Math.max(dim, 1) > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          data.count()
              + " x "
              + dim
              + " features do not fit in one array on the driver; train distributed or set a limit");
    }
    List<byte[]> blocks =
        data.examples()
            .select(Columns.EXAMPLE_ID, Columns.LABEL, Columns.FEATURES)
            .toJavaRDD()
            .mapPartitions(pack(dim))
            .collect();

    int n = 0;
    for (byte[] b : blocks) n += ByteBuffer.wrap(b).getInt();
    long[] ids = new long[n];
    int[] labels = new int[n];
    float[] features = new float[n * dim];
    int at = 0;
    for (byte[] b : blocks) {
      ByteBuffer buf = ByteBuffer.wrap(b);
      int m = buf.getInt();
      for (int k = 0; k < m; k++) ids[at + k] = buf.getLong();
      for (int k = 0; k < m; k++) labels[at + k] = buf.getInt();
      buf.asFloatBuffer().get(features, at * dim, m * dim);
      at += m;
    }
    return sortById(new LocalData(ids, labels, features, dim));
  }

  private static FlatMapFunction<Iterator<Row>, byte[]> pack(int dim) {
    return rows -> {
      long[] ids = new long[1024];
      int[] labels = new int[1024];
      float[] features = new float[1024 * dim];
      int m = 0;
      while (rows.hasNext()) {
        Row r = rows.next();
        if (m == ids.length) {
          ids = Arrays.copyOf(ids, 2 * m);
          labels = Arrays.copyOf(labels, 2 * m);
          features = Arrays.copyOf(features, 2 * m * dim);
        }
        ids[m] = r.getLong(0);
        labels[m] = r.getInt(1);
        System.arraycopy(toFloats(r.get(2)), 0, features, m * dim, dim);
        m++;
      }
      long bytes = 4 + m * (12L + 4L * dim);
      if (bytes > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException(
            "a partition of " + m + " rows is over 2 GB; repartition before collecting");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) bytes);
      buf.putInt(m);
      for (int k = 0; k < m; k++) buf.putLong(ids[k]);
      for (int k = 0; k < m; k++) buf.putInt(labels[k]);
      buf.asFloatBuffer().put(features, 0, m * dim);
      return List.of(buf.array()).iterator();
    };
  }

  /**
   * Spark hands array<float> to a Row as a Scala Seq (of boxed floats today); unwrap it cheaply.
   */
  static float[] toFloats(Object value) {
    if (value instanceof scala.collection.mutable.ArraySeq.ofFloat a) return a.array();
    if (value instanceof scala.collection.immutable.ArraySeq.ofFloat a) return a.unsafeArray();
    if (value instanceof float[] a) return a;
    if (value
        instanceof scala.collection.mutable.ArraySeq.ofRef<?> a) { // what Row gives today: boxed
      Object[] boxed = (Object[]) a.array();
      float[] out = new float[boxed.length];
      for (int k = 0; k < out.length; k++) out[k] = ((Number) boxed[k]).floatValue();
      return out;
    }
    Seq<?> seq = (Seq<?>) value;
    float[] out = new float[seq.length()];
    scala.collection.Iterator<?> it = seq.iterator();
    for (int k = 0; it.hasNext(); k++) out[k] = ((Number) it.next()).floatValue();
    return out;
  }

  private static LocalData sortById(LocalData data) {
    long[] sorted = data.ids().clone();
    Arrays.sort(sorted);
    if (Arrays.equals(sorted, data.ids())) return data;
    // ids are unique (validated at load), so each id's rank is found by binary search.
    int[] order = new int[sorted.length];
    for (int r = 0; r < sorted.length; r++) {
      order[Arrays.binarySearch(sorted, data.ids()[r])] = r;
    }
    return data.select(order);
  }
}
