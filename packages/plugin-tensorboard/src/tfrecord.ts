/**
 * TFRecord framing, as TensorFlow writes event files:
 *
 *   uint64 length (little endian)
 *   uint32 masked_crc32c(length)
 *   byte   data[length]
 *   uint32 masked_crc32c(data)
 */
import { maskedCrc32c } from './crc32c.js';

const HEADER = 12;
const FOOTER = 4;

export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + data.length + FOOTER);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER);
  out.writeUInt32LE(maskedCrc32c(data), HEADER + data.length);
  return out;
}

export interface ScannedRecords {
  /** The data of every whole record whose checksums match, in order. */
  readonly records: Buffer[];
  /** Bytes the whole records take; anything after is a record a crash cut short, or damage. */
  readonly validBytes: number;
}

/** Reads records until the end, or until a record that is cut short or fails its checksums. */
export function scanRecords(file: Buffer): ScannedRecords {
  const records: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER <= file.length) {
    const lengthBytes = file.subarray(offset, offset + 8);
    if (file.readUInt32LE(offset + 8) !== maskedCrc32c(lengthBytes)) break;
    const length = Number(file.readBigUInt64LE(offset));
    const end = offset + HEADER + length + FOOTER;
    if (end > file.length) break;
    const data = file.subarray(offset + HEADER, offset + HEADER + length);
    if (file.readUInt32LE(offset + HEADER + length) !== maskedCrc32c(data)) break;
    records.push(data);
    offset = end;
  }
  return { records, validBytes: offset };
}
