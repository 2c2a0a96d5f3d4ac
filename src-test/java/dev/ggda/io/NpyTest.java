package dev.ggda.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ggda.InputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

  @TempDir java.nio.file.Path tmp;

  private static float[] floats(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (r.nextGaussian() * 100);
    }
    return f;
  }

  private static double[] doubles(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = r.nextGaussian() * 1e-3;
    }
    return d;
  }

  @Test
  void roundTripsFloat32AndFloat64BitExactlyInManyShapes() {
    float[] special = {
      Float.NaN, Float.POSITIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE, 1f
    };
    List<long[]> shapes =
        List.of(
            new long[] {},
            new long[] {6},
            new long[] {2, 3},
            new long[] {1, 2, 3},
            new long[] {0},
            new long[] {3, 0});
    for (long[] shape : shapes) {
      int n = (int) NpyArray.elementCount(shape);
      float[] f = n == 6 ? special : floats(n, n);
      NpyArray back = Npy.fromBytes(Npy.toBytes(NpyArray.ofFloats(f, shape)), "mem");
      assertArrayEquals(shape, back.shape());
      assertEquals(NpyArray.DType.FLOAT32, back.dtype());
      for (int i = 0; i < n; i++) {
        assertEquals(Float.floatToRawIntBits(f[i]), Float.floatToRawIntBits(back.floats()[i]));
      }
      double[] d = doubles(n, n + 1);
      NpyArray backD = Npy.fromBytes(Npy.toBytes(NpyArray.ofDoubles(d, shape)), "mem");
      assertArrayEquals(shape, backD.shape());
      assertEquals(NpyArray.DType.FLOAT64, backD.dtype());
      assertArrayEquals(d, backD.doubles());
    }
  }

  @Test
  void headerIsAlignedVersion1AndReadableAsText() {
    byte[] b = Npy.toBytes(NpyArray.ofFloats(new float[12], 3, 4));
    assertEquals(1, b[6]);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertEquals(0, (10 + headerLen) % 64);
    String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(
        header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), header);
    assertTrue(header.endsWith(" \n"));
    assertEquals(10 + headerLen + 48, b.length);
  }

  @Test
  void largeArrayStreamsAcrossChunksThroughHadoopFileSystem() throws IOException {
    FileSystem fs = FileSystem.getLocal(new Configuration());
    Path p = new Path(tmp.toUri().toString(), "big.npy");
    float[] f = floats(50_001, 3); // > one 64 KiB chunk, not a multiple of it
    Npy.write(fs, p, NpyArray.ofFloats(f, 50_001));
    NpyArray back = Npy.read(fs, p);
    assertArrayEquals(f, back.floats());
    double[] d = doubles(20_003, 4);
    Npy.write(fs, p, NpyArray.ofDoubles(d, 20_003, 1));
    assertArrayEquals(d, Npy.read(fs, p).doubles());
  }

  @Test
  void readsVersion2And3Headers() {
    for (int major : new int[] {2, 3}) {
      byte[] body = floatBody(1.5f, -2.5f);
      byte[] bytes =
          rawFile(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", body);
      NpyArray a = Npy.fromBytes(bytes, "v" + major + ".npy");
      assertArrayEquals(new long[] {2}, a.shape());
      assertArrayEquals(new float[] {1.5f, -2.5f}, a.floats());
    }
  }

  @Test
  void fortranOrderIsReorderedToCOrder() {
    // Logical 2x3 matrix [[1,2,3],[4,5,6]] stored column by column.
    byte[] body = floatBody(1, 4, 2, 5, 3, 6);
    NpyArray a =
        Npy.fromBytes(
            rawFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", body), "f");
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.floats());
    // 3-D: element (i,j,k) of shape (2,3,2) at Fortran offset i + 2j + 6k holds value 100i + 10j +
    // k.
    float[] fort = new float[12];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        for (int k = 0; k < 2; k++) {
          fort[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
        }
      }
    }
    NpyArray b =
        Npy.fromBytes(
            rawFile(
                1,
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 2), }",
                floatBody(fort)),
            "f3");
    float[] c = b.floats();
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        for (int k = 0; k < 2; k++) {
          assertEquals(100 * i + 10 * j + k, c[i * 6 + j * 2 + k]);
        }
      }
    }
  }

  @Test
  void acceptsHeaderVariantsNumpyAndPython2Wrote() {
    byte[] body = floatBody(1, 2);
    // Double quotes, reordered keys, no trailing comma, Python 2 long suffix.
    String h = "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f4\"}";
    assertArrayEquals(new float[] {1, 2}, Npy.fromBytes(rawFile(1, h, body), "x").floats());
  }

  @Test
  void rejectsWrongDtypeNamingFileAndFix() {
    for (String descr : new String[] {"<i4", ">f4", "<f2", "|u1", "<c8"}) {
      byte[] bytes =
          rawFile(
              1,
              "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }",
              new byte[8]);
      InputException e = assertThrows(InputException.class, () -> Npy.fromBytes(bytes, "w.npy"));
      assertTrue(
          e.getMessage().startsWith("w.npy: unsupported dtype '" + descr + "'"), e.getMessage());
      assertTrue(e.getMessage().contains("astype"), e.getMessage());
    }
    byte[] structured =
        rawFile(
            1,
            "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }",
            new byte[16]);
    InputException e = assertThrows(InputException.class, () -> Npy.fromBytes(structured, "s.npy"));
    assertTrue(
        e.getMessage().contains("s.npy: unsupported dtype [('a', '<f4'), ('b', '<f4')]"),
        e.getMessage());
  }

  @Test
  void rejectsCorruptAndTruncatedFiles() {
    byte[] good = Npy.toBytes(NpyArray.ofFloats(floats(10, 1), 2, 5));
    // Every proper prefix is truncated (header or data).
    for (int len = 0; len < good.length; len += 7) {
      byte[] prefix = Arrays.copyOf(good, len);
      InputException e =
          assertThrows(InputException.class, () -> Npy.fromBytes(prefix, "t.npy"), "len " + len);
      assertTrue(e.getMessage().startsWith("t.npy: "), e.getMessage());
    }
    InputException trunc =
        assertThrows(
            InputException.class,
            () -> Npy.fromBytes(Arrays.copyOf(good, good.length - 1), "t.npy"));
    assertTrue(
        trunc.getMessage().contains("truncated")
            && trunc.getMessage().contains("39 of 40 data bytes"),
        trunc.getMessage());
    // Same through an unknown-length stream (as a non-seekable source would give).
    InputException streamTrunc =
        assertThrows(
            InputException.class,
            () ->
                Npy.read(
                    new java.io.ByteArrayInputStream(Arrays.copyOf(good, good.length - 4)),
                    "s.npy",
                    -1));
    assertTrue(streamTrunc.getMessage().contains("truncated"), streamTrunc.getMessage());

    byte[] trailing = Arrays.copyOf(good, good.length + 3);
    assertMessage(trailing, "3 bytes after");
    InputException streamTrail =
        assertThrows(
            InputException.class,
            () -> Npy.read(new java.io.ByteArrayInputStream(trailing), "s.npy", -1));
    assertTrue(streamTrail.getMessage().contains("bytes after"), streamTrail.getMessage());

    byte[] badMagic = good.clone();
    badMagic[1] = 'X';
    assertMessage(badMagic, "magic");
    byte[] badVersion = good.clone();
    badVersion[6] = 9;
    assertMessage(badVersion, "version 9.0");
    byte[] hugeHeader = good.clone();
    hugeHeader[6] = 2; // reinterpret as a 4-byte length field: absurd length
    hugeHeader[10] = 0x7f;
    hugeHeader[11] = 0x7f;
    assertMessage(hugeHeader, "header");
    // A shape whose byte count disagrees with the file is caught before allocating.
    assertMessage(
        rawFile(
            1, "{'descr': '<f8', 'fortran_order': False, 'shape': (10000, 10000), }", new byte[8]),
        "truncated");
    assertMessage(
        rawFile(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
            new byte[8]),
        "too large");
  }

  @Test
  void rejectsMalformedHeaders() {
    String[] bad = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", // not a tuple
      "{'descr': '<f4', 'fortran_order': False}", // missing key
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os'), }",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
      "",
    };
    for (String h : bad) {
      InputException e =
          assertThrows(
              InputException.class, () -> Npy.fromBytes(rawFile(1, h, new byte[8]), "h.npy"), h);
      assertTrue(
          e.getMessage().startsWith("h.npy: not a valid .npy file: malformed header"),
          h + " -> " + e.getMessage());
    }
  }

  @Test
  void missingFileThroughFileSystemIsInputError() {
    FileSystem fs;
    try {
      fs = FileSystem.getLocal(new Configuration());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    Path p = new Path(tmp.toUri().toString(), "nope.npy");
    InputException e = assertThrows(InputException.class, () -> Npy.read(fs, p));
    assertTrue(e.getMessage().contains("nope.npy: file not found"), e.getMessage());
  }

  /** NumPy reads what we write and we read what NumPy writes, byte-identical both ways. */
  @Test
  void interoperatesWithPythonNumpy() throws Exception {
    Assumptions.assumeTrue(pythonNumpyAvailable(), "python3 with numpy not available");
    java.nio.file.Path ours = tmp.resolve("ours.npy");
    float[] f = floats(6, 9);
    byte[] ourBytes = Npy.toBytes(NpyArray.ofFloats(f, 2, 3));
    Files.write(ours, ourBytes);
    String script =
        String.join(
            "\n",
            "import numpy as np, sys",
            "d = sys.argv[1]",
            "a = np.load(d + '/ours.npy')",
            "assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)",
            "np.save(d + '/resaved.npy', a)",
            "np.save(d + '/f64.npy', np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7)",
            "np.save(d + '/fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))",
            "np.save(d + '/scalar.npy', np.float32(2.5))",
            "np.save(d + '/int.npy', np.arange(3))");
    Process p =
        new ProcessBuilder("python3", "-c", script, tmp.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);

    assertArrayEquals(
        ourBytes,
        Files.readAllBytes(tmp.resolve("resaved.npy")),
        "np.save output differs from ours");
    NpyArray f64 = Npy.fromBytes(Files.readAllBytes(tmp.resolve("f64.npy")), "f64.npy");
    assertArrayEquals(new long[] {2, 3, 4}, f64.shape());
    for (int i = 0; i < 24; i++) {
      assertEquals(i / 7.0, f64.doubles()[i], 0.0);
    }
    NpyArray fort = Npy.fromBytes(Files.readAllBytes(tmp.resolve("fortran.npy")), "fortran.npy");
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, fort.floats());
    NpyArray scalar = Npy.fromBytes(Files.readAllBytes(tmp.resolve("scalar.npy")), "scalar.npy");
    assertArrayEquals(new long[0], scalar.shape());
    assertEquals(2.5f, scalar.floats()[0]);
    InputException e =
        assertThrows(
            InputException.class,
            () -> Npy.fromBytes(Files.readAllBytes(tmp.resolve("int.npy")), "int.npy"));
    assertTrue(e.getMessage().contains("unsupported dtype '<i8'"), e.getMessage());
  }

  private static boolean pythonNumpyAvailable() {
    try {
      Process p =
          new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static void assertMessage(byte[] bytes, String fragment) {
    InputException e = assertThrows(InputException.class, () -> Npy.fromBytes(bytes, "c.npy"));
    assertTrue(
        e.getMessage().startsWith("c.npy: ") && e.getMessage().contains(fragment), e.getMessage());
  }

  private static byte[] floatBody(float... v) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  /** A .npy file with an arbitrary header dict (padded with spaces and '\n') and body. */
  private static byte[] rawFile(int major, String dict, byte[] body) {
    int lenBytes = major == 1 ? 2 : 4;
    byte[] h = (dict + "   \n").getBytes(StandardCharsets.UTF_8);
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(8 + lenBytes + h.length + body.length)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    return b.put(h).put(body).array();
  }
}
