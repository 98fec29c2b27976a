package org.xfstage.api.device;

/**
 * New contents for one place of the device, as a device encoder made them (CRC and self-describing header set):
 * what a repair plan writes.
 *
 * @param offset byte offset on the device
 * @param bytes  the new contents
 * @param what   what the block is, for plans and logs ("AGF of AG 1")
 */
public record BlockImage(long offset, byte[] bytes, String what) {
}
