package dev.ggda.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ggda.testing.SparkTestSession;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input read from and output written to S3 through s3a:// URIs, against a local S3-compatible
 * server the test starts (moto's server mode, from the machine's Python) with path-style access and
 * dummy credentials. The scores must equal those of the same job on file://, and the secret key
 * must not reach run.json. Skipped only when Python has no moto. Alone:
 *
 * <pre>
 *   mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=S3aIT
 * </pre>
 */
@Tag("storage")
class S3aIT {
  static final String BUCKET = "ggda-it";
  static final String ACCESS_KEY = "ggda-test-access";
  static final String SECRET_KEY = "ggda-dummy-secret-4f9c2e";

  @TempDir static Path tmp;
  static Process server;
  static int port;

  @BeforeAll
  static void startS3Server() throws Exception {
    assumeTrue(
        pythonHasMoto(), "python3 cannot import moto: no local S3 server to test s3a:// against");
    port = freePort();
    server =
        new ProcessBuilder(
                "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String.valueOf(port))
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("moto.log").toFile())
            .start();
    HttpClient http = HttpClient.newHttpClient();
    URI bucket = URI.create("http://127.0.0.1:" + port + "/" + BUCKET);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        // moto's server takes unsigned requests; this creates the bucket.
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(bucket).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        break;
      } catch (ConnectException e) {
        if (!server.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "moto server did not start; see " + tmp.resolve("moto.log"), e);
        }
        Thread.sleep(200);
      }
    }
    // Per-bucket settings, so nothing else in the shared session's Hadoop configuration changes.
    Configuration conf = SparkTestSession.get().sparkContext().hadoopConfiguration();
    String b = "fs.s3a.bucket." + BUCKET + ".";
    conf.set(b + "endpoint", "http://127.0.0.1:" + port);
    conf.set(b + "endpoint.region", "us-east-1");
    conf.set(b + "path.style.access", "true");
    conf.set(b + "connection.ssl.enabled", "false");
    conf.set(
        b + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    conf.set(b + "access.key", ACCESS_KEY);
    conf.set(b + "secret.key", SECRET_KEY);
    conf.set(b + "attempts.maximum", "2");
    conf.set(b + "retry.limit", "2");
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static boolean pythonHasMoto() {
    try {
      Process p =
          new ProcessBuilder("python3", "-c", "import moto.server")
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @AfterAll
  static void stopS3Server() throws Exception {
    if (server != null) {
      // The cached S3A client points at this server: drop it (only it; the session keeps the
      // others).
      FileSystem.get(
              URI.create("s3a://" + BUCKET + "/"),
              SparkTestSession.get().sparkContext().hadoopConfiguration())
          .close();
      server.descendants().forEach(ProcessHandle::destroyForcibly);
      server.destroyForcibly();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void runsWithInputAndOutputOnS3LikeOnTheLocalFilesystem() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String base = "s3a://" + BUCKET + "/ggda-it";
    String out = base + "/out/run";
    StorageRoundTrip.run(spark, base, out);
    JsonNode run = StorageRoundTrip.assertCompleteOutput(spark, out);
    assertFalse(run.toString().contains(SECRET_KEY), "run.json holds the S3 secret key");
    org.apache.hadoop.fs.Path runJson = new org.apache.hadoop.fs.Path(out + "/run.json");
    try (InputStream in =
        runJson.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(runJson)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      for (String secret : List.of(SECRET_KEY, ACCESS_KEY)) {
        assertFalse(text.contains(secret), "run.json holds a credential: " + secret);
      }
    }
    ScoreTables.assertSame(
        StorageRoundTrip.localScores(), ScoreTables.read(spark, out), 1e-9, "s3a:// vs file://");
  }
}
