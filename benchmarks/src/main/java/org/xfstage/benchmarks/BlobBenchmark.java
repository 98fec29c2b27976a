package org.xfstage.benchmarks;

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
import org.xfstage.api.staging.XfBlob;
import org.xfstage.xfarray.internal.XfBlobFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * xfblob append and load of directory-entry-sized names (24 bytes: a typical name), over 2^18 names, against the
 * same names kept as {@code byte[]}s on the heap: what staging a name costs next to holding it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BlobBenchmark {
    static final int N = 1 << 18;
    static final int NAME = 24;

    XFileFactoryImpl xfiles;
    XfBlobFactoryImpl blobs;
    XfBlob names;
    long[] cookies = new long[N];
    byte[][] heap = new byte[N][];
    final byte[] name = new byte[NAME];
    final byte[] dst = new byte[256];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        blobs = new XfBlobFactoryImpl(xfiles);
        names = blobs.create("bench");
        for (int i = 0; i < N; i++) {
            name[0] = (byte) i;
            cookies[i] = names.store(name);
            heap[i] = name.clone();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        names.close();
        blobs.deactivate();
        xfiles.deactivate();
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void xfblobLoad(Blackhole bh) throws Exception {
        for (int i = 0; i < N; i++) {
            bh.consume(names.load(cookies[i], dst, 0));
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void heapCopy(Blackhole bh) {
        for (int i = 0; i < N; i++) {
            byte[] b = heap[i];
            System.arraycopy(b, 0, dst, 0, b.length);
            bh.consume(b.length);
        }
    }

    /** Appends N names to a fresh store (its creation and closing included). */
    @Benchmark
    @OperationsPerInvocation(N)
    public void xfblobAppend(Blackhole bh) throws Exception {
        try (XfBlob b = blobs.create("append")) {
            for (int i = 0; i < N; i++) {
                name[1] = (byte) i;
                bh.consume(b.store(name));
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void heapAppend(Blackhole bh) {
        byte[][] out = new byte[N][];
        for (int i = 0; i < N; i++) {
            name[1] = (byte) i;
            out[i] = name.clone();
        }
        bh.consume(out);
    }
}
