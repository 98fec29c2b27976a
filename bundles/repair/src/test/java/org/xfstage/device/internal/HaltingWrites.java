package org.xfstage.device.internal;

/**
 * Test-only: makes a commit stop the JVM dead in the middle of its writes, as a crash or a power cut would. It sits in
 * the device's internal package (on the tests' plain class path) to reach {@link XfsImage#setWriteListener}.
 */
public final class HaltingWrites {
    /** The exit status of a JVM halted by {@link #haltBeforeBlock}. */
    public static final int STATUS = 77;

    private HaltingWrites() {
    }

    /** Halts this JVM with {@link #STATUS} before a commit writes its block {@code k} (counted from 0). */
    public static void haltBeforeBlock(int k) {
        XfsImage.setWriteListener(index -> {
            if (index == k) {
                Runtime.getRuntime().halt(STATUS);
            }
        });
    }
}
