package dev.ggda.io;

import dev.ggda.testing.SparkTestSession;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input read from and output written to HDFS through hdfs:// URIs: an in-process MiniDFSCluster
 * (one namenode, one datanode), the job run through its CLI on the shared local session. The scores
 * must equal those of the same job on file://. Alone:
 *
 * <pre>
 *   mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=HdfsIT
 * </pre>
 */
@Tag("storage")
class HdfsIT {
  @TempDir static Path tmp;
  static MiniDFSCluster dfs;

  @BeforeAll
  static void startHdfs() throws Exception {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, tmp.resolve("dfs").toString());
    dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    dfs.waitActive();
  }

  @AfterAll
  static void stopHdfs() {
    if (dfs != null) {
      dfs.shutdown(true);
    }
  }

  @Test
  void runsWithInputAndOutputOnHdfsLikeOnTheLocalFilesystem() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String base = dfs.getURI() + "/ggda-it";
    String out = base + "/out/run";
    StorageRoundTrip.run(spark, base, out);
    StorageRoundTrip.assertCompleteOutput(spark, out);
    ScoreTables.assertSame(
        StorageRoundTrip.localScores(), ScoreTables.read(spark, out), 1e-9, "hdfs:// vs file://");
  }
}
