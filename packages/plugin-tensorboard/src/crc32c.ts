import { crc32c } from '@node-rs/crc32';

/**
 * The masked CRC32C of TFRecord framing (tensorflow/core/lib/hash/crc32c.h):
 * rotate right by 15 bits and add a constant, so that a CRC of data that holds
 * CRCs does not degenerate.
 */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export { crc32c };
