package org.xfstage.benchmarks;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.xfstage.api.staging.XfArray;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * Record load/store throughput of an xfarray against raw {@link MappedByteBuffer} access to a file on the
 * same tmpfs, both copying each 16-byte record into or out of the same heap buffer, sequentially over
 * 2^20 records (16 MiB, past the caches).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LoadStoreBenchmark {
    static final int N = 1 << 20;
    static final int R = 16;

    XFileFactoryImpl xfiles;
    XfArrayFactoryImpl arrays;
    XfArray array;
    MappedByteBuffer mapped;
    Path rawFile;
    final byte[] rec = new byte[R];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
        array = arrays.create("bench", R);
        rawFile = Files.createTempFile(Path.of("/dev/shm"), "raw", ".bench");
        try (FileChannel ch = FileChannel.open(rawFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) N * R);
        }
        rec[0] = 1;
        for (int i = 0; i < N; i++) {
            rec[8] = (byte) i;
            array.store(i, rec);
            mapped.put(i * R, rec);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        array.close();
        arrays.deactivate();
        xfiles.deactivate();
        Files.deleteIfExists(rawFile);
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void xfarrayLoad(Blackhole bh) throws Exception {
        for (int i = 0; i < N; i++) {
            array.load(i, rec);
            bh.consume(rec[8]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void rawMappedLoad(Blackhole bh) {
        for (int i = 0; i < N; i++) {
            mapped.get(i * R, rec);
            bh.consume(rec[8]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void xfarrayStore() throws Exception {
        for (int i = 0; i < N; i++) {
            rec[9] = (byte) i;
            array.store(i, rec);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void rawMappedStore() {
        for (int i = 0; i < N; i++) {
            rec[9] = (byte) i;
            mapped.put(i * R, rec);
        }
    }

}
