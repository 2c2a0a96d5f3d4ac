package dev.ggda.perf;

import dev.ggda.config.ActivationKind;
import dev.ggda.math.Architecture;
import dev.ggda.math.BatchGradient;
import dev.ggda.math.GroupGradients;
import dev.ggda.math.Losses;
import dev.ggda.math.Network;
import dev.ggda.spark.Nd4jThreads;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The kernels featurize spends its time in, on one BLAS thread (as each featurize task runs), for a
 * pass of {@code rows} examples through the Fashion-MNIST MLP 784-128-10 (p = 101,770):
 *
 * <ul>
 *   <li>{@code backward}: one forward and one batched backward of the margin;
 *   <li>{@code perExampleGradients}: the rows x p per-example gradient matrix from that backward
 *       (the per-example path);
 *   <li>{@code groupSums}: the per-group gradient sums, one small GEMM per layer and group (the
 *       group path, groups of {@code groupSize});
 *   <li>{@code projectRows}: rows x p times P (p x k), the projection GEMM of the per-example path.
 * </ul>
 *
 * Run with {@code deploy/jmh FeaturizeKernels} (JMH prints ms per operation; divide the GEMM's 2
 * rows p k flops by it for GFLOP/s).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
    })
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class FeaturizeKernels {
  @Param({"512"})
  int rows;

  @Param({"64"})
  int groupSize;

  @Param({"2048"})
  int k;

  Architecture arch;
  Network net;
  INDArray x;
  int[] labels;
  Network.ForwardPass pass;
  BatchGradient gradient;
  INDArray perExample;
  INDArray projection;
  INDArray projected;
  int[] starts;

  @Setup
  public void setUp() {
    Nd4jThreads.set(1);
    arch = new Architecture(784, new int[] {128}, 10, ActivationKind.RELU);
    net = Network.initialise(arch, 1, DataType.FLOAT);
    x = Nd4j.rand(DataType.FLOAT, rows, 784);
    labels = new int[rows];
    for (int i = 0; i < rows; i++) {
      labels[i] = i % 10;
    }
    pass = net.forward(x);
    gradient = net.backward(pass, Losses.marginGradient(pass.logits(), labels), false);
    perExample = gradient.perExample(arch);
    // The GEMM's cost does not depend on the entries: uniform noise stands in for the rademacher P.
    projection = Nd4j.rand(DataType.FLOAT, (int) arch.paramCount(), k);
    projected = Nd4j.createUninitialized(DataType.FLOAT, rows, k);
    starts = new int[rows / groupSize + 1];
    for (int g = 0; g < starts.length; g++) {
      starts[g] = Math.min(rows, g * groupSize);
    }
  }

  @Benchmark
  public Object backward() {
    Network.ForwardPass f = net.forward(x);
    return net.backward(f, Losses.marginGradient(f.logits(), labels), false);
  }

  @Benchmark
  public Object perExampleGradients() {
    return gradient.perExample(arch);
  }

  @Benchmark
  public Object groupSums() {
    return GroupGradients.sums(arch, gradient, starts);
  }

  @Benchmark
  public Object projectRows() {
    return perExample.mmuli(projection, projected);
  }
}
