package org.xfstage.repair.internal;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.xfstage.xfarray.internal.XfArrayFactoryImpl;
import org.xfstage.xfile.internal.XFileFactoryImpl;

/**
 * What the oracle tests share: one engine a class, with every built-in strategy and staging on memfd (4 GiB a file,
 * 8 GiB in all, so that the limit is never what a test meets), made before the class's tests and stopped after them
 * (a subclass's own {@code @BeforeAll} runs after this one's, its {@code @AfterAll} before); a temporary directory for
 * each test's images.
 */
abstract class OracleEngine {
    static XFileFactoryImpl xfiles;
    static XfArrayFactoryImpl arrays;
    static RepairEngineImpl engine;

    @TempDir
    Path dir;

    @BeforeAll
    static void startEngine() {
        xfiles = XFileFactoryImpl.standalone(1L << 32, 1L << 33);
        arrays = new XfArrayFactoryImpl(xfiles);
        engine = RepairOracleTest.engineWithBuiltIns(xfiles, arrays);
    }

    @AfterAll
    static void stopEngine() {
        arrays.deactivate();
        xfiles.deactivate();
    }
}
