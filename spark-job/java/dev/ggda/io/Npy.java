package dev.ggda.io;

import dev.ggda.InputException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0) for little-endian float32 and float64
 * arrays of any shape, through the Hadoop FileSystem so that local, hdfs:// and s3a:// paths all
 * work.
 *
 * <p>The header is a Python dict literal; it is parsed by a small strict grammar here (exactly the
 * keys {@code descr}, {@code fortran_order}, {@code shape}), never evaluated. Anything that does
 * not conform, a truncated body, trailing bytes or an unsupported dtype raise {@link
 * InputException} naming the file. Writing always produces C order and version 1.0 (2.0 only when
 * the header would not fit in 64 KiB), which every NumPy reads.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  /** NumPy aligns the data start to 64 bytes (so memory-mapped arrays are aligned). */
  private static final int ALIGN = 64;

  /**
   * No real header comes near this; a larger length field means a corrupt file, not a big alloc.
   */
  private static final int MAX_HEADER_BYTES = 1 << 20;

  /** Largest Java array we can fill. */
  private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private static final int CHUNK = 1 << 16;

  private Npy() {}

  // ---------------------------------------------------------------- Hadoop FileSystem entry points

  /** Writes {@code array} to {@code path}, replacing any existing file. */
  public static void write(FileSystem fs, Path path, NpyArray array) throws IOException {
    try (OutputStream out = new BufferedOutputStream(fs.create(path, true), CHUNK)) {
      write(out, array);
    }
  }

  /**
   * Reads {@code path}.
   *
   * @throws InputException if the file is missing, corrupt, truncated or not float32/float64
   * @throws IOException for I/O failures of the file system itself
   */
  public static NpyArray read(FileSystem fs, Path path) throws IOException {
    long length;
    try {
      length = fs.getFileStatus(path).getLen();
    } catch (FileNotFoundException e) {
      throw new InputException(path + ": file not found (expected a NumPy .npy array)");
    }
    try (InputStream in = new BufferedInputStream(fs.open(path), CHUNK)) {
      return read(in, path.toString(), length);
    } catch (ChecksumException e) {
      // Hadoop's checksummed file systems (local, HDFS) detect bit rot or a hand-edited file.
      throw new InputException(
          path
              + ": checksum mismatch ("
              + e.getMessage()
              + "); the file is corrupt or was"
              + " changed after it was written (if on purpose, delete its .crc file)");
    }
  }

  // ---------------------------------------------------------------- in-memory variants

  /** The complete .npy file for {@code array}. */
  public static byte[] toBytes(NpyArray array) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(out, array);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // ByteArrayOutputStream does not throw
    }
    return out.toByteArray();
  }

  /** Parses a complete .npy file held in memory; {@code name} is used in error messages. */
  public static NpyArray fromBytes(byte[] bytes, String name) {
    try {
      return read(new ByteArrayInputStream(bytes), name, bytes.length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------- streams

  /** Writes the .npy encoding of {@code array} to {@code out} (does not close it). */
  public static void write(OutputStream out, NpyArray array) throws IOException {
    out.write(header(array));
    NpyArray.DType dt = array.dtype();
    int n = Math.toIntExact(array.size());
    ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    int perChunk = CHUNK / dt.bytes();
    for (int start = 0; start < n; start += perChunk) {
      int end = Math.min(n, start + perChunk);
      buf.clear();
      if (dt == NpyArray.DType.FLOAT32) {
        buf.asFloatBuffer().put(array.floats(), start, end - start);
      } else {
        buf.asDoubleBuffer().put(array.doubles(), start, end - start);
      }
      out.write(buf.array(), 0, (end - start) * dt.bytes());
    }
  }

  /**
   * Reads one array from {@code in}.
   *
   * @param name the file, for error messages
   * @param totalLength the stream's length in bytes if known (lets a corrupt shape be rejected
   *     before allocating, and trailing bytes be detected cheaply), or -1
   */
  public static NpyArray read(InputStream in, String name, long totalLength) throws IOException {
    byte[] magic = readFully(in, 8, name, "the 8-byte magic and version");
    for (int i = 0; i < MAGIC.length; i++) {
      if (magic[i] != MAGIC[i]) {
        throw corrupt(name, "does not start with the NumPy magic \\x93NUMPY");
      }
    }
    int major = magic[6] & 0xff;
    int minor = magic[7] & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw corrupt(
          name, "has .npy format version " + major + "." + minor + "; ggda reads 1.0, 2.0 and 3.0");
    }
    int lenBytes = major == 1 ? 2 : 4;
    byte[] lenField = readFully(in, lenBytes, name, "the header length");
    long headerLen = 0;
    for (int i = lenBytes - 1; i >= 0; i--) {
      headerLen = (headerLen << 8) | (lenField[i] & 0xff);
    }
    if (headerLen > MAX_HEADER_BYTES) {
      throw corrupt(name, "declares a " + headerLen + "-byte header (corrupt length field)");
    }
    byte[] headerBytes = readFully(in, (int) headerLen, name, "the " + headerLen + "-byte header");
    // Versions 1 and 2 use latin-1 headers, version 3 UTF-8; the grammar only admits ASCII anyway.
    String header =
        new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Header h = HeaderParser.parse(header, name);

    NpyArray.DType dtype =
        switch (h.descr) {
          case "<f4" -> NpyArray.DType.FLOAT32;
          case "<f8" -> NpyArray.DType.FLOAT64;
          default ->
              throw new InputException(
                  name
                      + ": unsupported dtype '"
                      + h.descr
                      + "'; ggda reads little-endian float32 ('<f4') or float64 ('<f8')"
                      + " arrays: convert with arr.astype(np.float32) before np.save");
        };
    long count = NpyArray.elementCount(h.shape);
    if (count < 0 || count > MAX_ELEMENTS) {
      throw corrupt(
          name, "has shape " + NpyArray.shapeString(h.shape) + ", too large for one array");
    }
    long dataBytes = count * dtype.bytes();
    long prefix = 8 + lenBytes + headerLen;
    if (totalLength >= 0 && totalLength != prefix + dataBytes) {
      throw totalLength < prefix + dataBytes
          ? truncated(name, dataBytes, totalLength - prefix)
          : corrupt(
              name,
              "has "
                  + (totalLength - prefix - dataBytes)
                  + " bytes after the "
                  + dataBytes
                  + " data bytes of shape "
                  + NpyArray.shapeString(h.shape));
    }

    NpyArray arr = readData(in, name, dtype, (int) count, h.shape);
    if (totalLength < 0 && in.read() != -1) {
      throw corrupt(name, "has bytes after the data of shape " + NpyArray.shapeString(h.shape));
    }
    return h.fortranOrder ? toCOrder(arr) : arr;
  }

  private static NpyArray readData(
      InputStream in, String name, NpyArray.DType dt, int count, long[] shape) throws IOException {
    float[] f = dt == NpyArray.DType.FLOAT32 ? new float[count] : null;
    double[] d = dt == NpyArray.DType.FLOAT64 ? new double[count] : null;
    byte[] chunk = new byte[CHUNK];
    int perChunk = CHUNK / dt.bytes();
    for (int start = 0; start < count; start += perChunk) {
      int n = Math.min(perChunk, count - start);
      int got = in.readNBytes(chunk, 0, n * dt.bytes());
      if (got < n * dt.bytes()) {
        throw truncated(name, (long) count * dt.bytes(), (long) start * dt.bytes() + got);
      }
      ByteBuffer buf = ByteBuffer.wrap(chunk, 0, n * dt.bytes()).order(ByteOrder.LITTLE_ENDIAN);
      if (f != null) {
        buf.asFloatBuffer().get(f, start, n);
      } else {
        buf.asDoubleBuffer().get(d, start, n);
      }
    }
    return f != null ? NpyArray.ofFloats(f, shape) : NpyArray.ofDoubles(d, shape);
  }

  /** Reorders a Fortran-order (column-major) body to C order, the only layout ggda uses. */
  private static NpyArray toCOrder(NpyArray fortran) {
    long[] shape = fortran.shape();
    int rank = shape.length;
    int n = (int) fortran.size();
    if (rank < 2 || n == 0) {
      return fortran; // identical layouts
    }
    long[] fStride = new long[rank];
    fStride[0] = 1;
    for (int k = 1; k < rank; k++) {
      fStride[k] = fStride[k - 1] * shape[k - 1];
    }
    int[] src = new int[n];
    long[] idx = new long[rank];
    long off = 0;
    for (int c = 0; c < n; c++) {
      src[c] = (int) off;
      // Increment the C-order multi-index (last axis fastest), tracking the Fortran offset.
      for (int k = rank - 1; k >= 0; k--) {
        if (++idx[k] < shape[k]) {
          off += fStride[k];
          break;
        }
        off -= (shape[k] - 1) * fStride[k];
        idx[k] = 0;
      }
    }
    if (fortran.dtype() == NpyArray.DType.FLOAT32) {
      float[] in = fortran.floats();
      float[] out = new float[n];
      for (int c = 0; c < n; c++) {
        out[c] = in[src[c]];
      }
      return NpyArray.ofFloats(out, shape);
    }
    double[] in = fortran.doubles();
    double[] out = new double[n];
    for (int c = 0; c < n; c++) {
      out[c] = in[src[c]];
    }
    return NpyArray.ofDoubles(out, shape);
  }

  /** Magic, version, length field and the space-padded dict, aligned like NumPy's own writer. */
  static byte[] header(NpyArray array) {
    String dict =
        "{'descr': '"
            + array.dtype().descr()
            + "', 'fortran_order': False, 'shape': "
            + NpyArray.shapeString(array.shape())
            + ", }";
    // NumPy pads with 1..64 spaces so the prefix ends on a 64-byte boundary; mirroring it exactly
    // makes our files byte-identical to np.save's.
    int major = 1;
    int lenBytes = 2;
    int total = padded(MAGIC.length + 2 + lenBytes + dict.length() + 1);
    if (total - MAGIC.length - 2 - lenBytes > 0xffff) {
      major = 2;
      lenBytes = 4;
      total = padded(MAGIC.length + 2 + lenBytes + dict.length() + 1);
    }
    int headerLen = total - MAGIC.length - 2 - lenBytes;
    ByteBuffer buf = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      buf.putShort((short) headerLen);
    } else {
      buf.putInt(headerLen);
    }
    buf.put(dict.getBytes(StandardCharsets.US_ASCII));
    while (buf.position() < total - 1) {
      buf.put((byte) ' ');
    }
    buf.put((byte) '\n');
    return buf.array();
  }

  private static int padded(int unpadded) {
    return unpadded + ALIGN - unpadded % ALIGN;
  }

  private static byte[] readFully(InputStream in, int n, String name, String what)
      throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new InputException(
          name + ": truncated .npy file: ended inside " + what + "; re-export it with np.save");
    }
    return b;
  }

  private static InputException truncated(String name, long expected, long got) {
    return new InputException(
        name
            + ": truncated .npy file: "
            + got
            + " of "
            + expected
            + " data bytes present; re-export it with np.save");
  }

  private static InputException corrupt(String name, String what) {
    return new InputException(
        name + ": not a valid .npy file: it " + what + "; re-export it with np.save");
  }

  // ---------------------------------------------------------------- header grammar

  private record Header(String descr, boolean fortranOrder, long[] shape) {}

  /**
   * Recursive descent over the subset of Python literal syntax NumPy writes: {@code { 'key': value,
   * ... }} with string, {@code True}/{@code False} and int-tuple values, optional trailing commas,
   * then padding spaces and a newline.
   */
  private static final class HeaderParser {
    private final String s;
    private final String name;
    private int pos;

    private HeaderParser(String s, String name) {
      this.s = s;
      this.name = name;
    }

    static Header parse(String header, String name) {
      HeaderParser p = new HeaderParser(header, name);
      Map<String, Object> dict = p.dict();
      p.skipSpace();
      if (p.pos != header.length()) {
        throw p.fail("unexpected text after the header dict");
      }
      if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
        throw p.fail(
            "header keys are " + dict.keySet() + ", expected exactly descr, fortran_order, shape");
      }
      if (!(dict.get("descr") instanceof String descr)) {
        throw new InputException(
            name
                + ": unsupported dtype "
                + p.render(dict.get("descr"))
                + "; ggda reads plain float32 ('<f4') or float64 ('<f8') arrays, not structured ones");
      }
      if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
        throw p.fail("'fortran_order' must be True or False");
      }
      if (!(dict.get("shape") instanceof long[] shape)) {
        throw p.fail("'shape' must be a tuple of integers");
      }
      return new Header(descr, fortran, shape);
    }

    private Map<String, Object> dict() {
      skipSpace();
      expect('{');
      Map<String, Object> out = new HashMap<>();
      while (true) {
        skipSpace();
        if (peek() == '}') {
          pos++;
          return out;
        }
        String key = string();
        skipSpace();
        expect(':');
        Object value = value();
        if (out.put(key, value) != null) {
          throw fail("duplicate key '" + key + "'");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != '}') {
          throw fail("expected ',' or '}' at offset " + pos);
        }
      }
    }

    private Object value() {
      skipSpace();
      char c = peek();
      if (c == '\'' || c == '"') {
        return string();
      }
      if (c == '(') {
        return tuple();
      }
      if (s.startsWith("True", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("False", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      if (c == '[') {
        // Structured dtypes are lists of fields; consume it so the error can name the dtype.
        int depth = 0;
        int start = pos;
        do {
          char ch = peek();
          depth += ch == '[' ? 1 : ch == ']' ? -1 : 0;
          pos++;
        } while (depth > 0);
        return new StructuredDescr(s.substring(start, pos));
      }
      throw fail("unexpected value at offset " + pos);
    }

    /** An int tuple; Python needs the trailing comma for one element, so "(3)" is not a tuple. */
    private long[] tuple() {
      expect('(');
      List<Long> dims = new ArrayList<>();
      boolean trailingComma = false;
      while (true) {
        skipSpace();
        if (peek() == ')') {
          pos++;
          break;
        }
        dims.add(integer());
        skipSpace();
        trailingComma = peek() == ',';
        if (trailingComma) {
          pos++;
        } else if (peek() != ')') {
          throw fail("expected ',' or ')' in the shape at offset " + pos);
        }
      }
      if (dims.size() == 1 && !trailingComma) {
        throw fail("'shape' must be a tuple, e.g. (3,)");
      }
      return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private long integer() {
      int start = pos;
      while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
        pos++;
      }
      if (pos == start || pos - start > 18) {
        throw fail("expected a non-negative dimension at offset " + start);
      }
      long v = Long.parseLong(s.substring(start, pos));
      if (pos < s.length() && s.charAt(pos) == 'L') {
        pos++; // Python 2 long literal, found in very old files
      }
      return v;
    }

    private String string() {
      char q = peek();
      if (q != '\'' && q != '"') {
        throw fail("expected a quoted string at offset " + pos);
      }
      int end = s.indexOf(q, pos + 1);
      if (end < 0) {
        throw fail("unterminated string at offset " + pos);
      }
      String v = s.substring(pos + 1, end);
      if (v.indexOf('\\') >= 0) {
        throw fail("escape sequences are not expected in the header");
      }
      pos = end + 1;
      return v;
    }

    private void skipSpace() {
      while (pos < s.length()
          && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\t')) {
        pos++;
      }
    }

    private char peek() {
      if (pos >= s.length()) {
        throw fail("header ends early");
      }
      return s.charAt(pos);
    }

    private void expect(char c) {
      if (peek() != c) {
        throw fail("expected '" + c + "' at offset " + pos);
      }
      pos++;
    }

    private String render(Object v) {
      return v instanceof StructuredDescr sd ? sd.text : String.valueOf(v);
    }

    private InputException fail(String what) {
      return new InputException(
          name
              + ": not a valid .npy file: malformed header ("
              + what
              + "); re-export it with np.save");
    }

    private record StructuredDescr(String text) {}
  }
}
