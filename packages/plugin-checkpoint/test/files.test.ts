import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeAll, writeSynced } from '../src/files.js';
import { tempDir } from './helpers.js';

describe('checkpoint file writing', () => {
  it('writes the rest of the bytes when a write takes only part of them', async () => {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    const written: number[] = [];
    // At most 3,000 bytes a call, as a write(2) interrupted by a signal may take.
    await writeAll({ write: async (buffer, offset, length) => {
      const n = Math.min(length, 3000);
      written.push(...buffer.subarray(offset, offset + n));
      return { bytesWritten: n };
    } }, bytes);
    expect(Buffer.from(written).equals(Buffer.from(bytes))).to.equal(true);
  });

  it('fails, rather than looping, when a write takes nothing', async () => {
    const err = await writeAll({ write: async () => ({ bytesWritten: 0 }) }, new Uint8Array(8)).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('a write took none of 8 bytes');
  });

  it('takes a view for each chunk and never uses one after an await: a heap that grows at every await is written right', async () => {
    const dir = await tempDir('files');
    const size = 17 * 1024 * 1024 + 3; // three chunks
    let heap = new ArrayBuffer(size);
    new Uint8Array(heap).forEach((_, i, a) => (a[i] = (i * 13) % 256));
    const expected = Buffer.from(new Uint8Array(heap).slice());
    let growths = 0;
    // As the wasm heap does when it grows: a new buffer, and every view of the old one emptied.
    const grow = () => {
      const old = heap;
      heap = new ArrayBuffer(old.byteLength);
      new Uint8Array(heap).set(new Uint8Array(old));
      structuredClone(old, { transfer: [old] });
      growths++;
    };
    const viewed = {
      byteLength: size,
      view: (offset: number, length: number) => {
        // Runs once the synchronous stretch that took the view ends, at its next await.
        queueMicrotask(grow);
        return new Uint8Array(heap, offset, length);
      },
    };
    const result = await writeSynced(join(dir, 'grown.bin'), [viewed]);
    const file = await readFile(join(dir, 'grown.bin'));
    expect(growths, 'one growth after each view: 3 chunks written, 3 hashed').to.equal(6);
    expect(file.equals(expected)).to.equal(true);
    expect(result.sha256).to.equal(createHash('sha256').update(expected).digest('hex'));
  });

  it('writes arrays and viewed bytes back to back, and returns the sha256 and size of the file', async () => {
    const dir = await tempDir('files');
    const source = Uint8Array.from({ length: 9 * 1024 * 1024 + 5 }, (_, i) => (i * 7) % 256);
    // Bytes viewed on demand, as on the wasm heap: more than one 8 MiB chunk, so the staging buffer is reused.
    const viewed = { byteLength: source.byteLength, view: (offset: number, length: number) => source.slice(offset, offset + length) };
    const head = Uint8Array.of(1, 2, 3);
    const result = await writeSynced(join(dir, 'out.bin'), [head, viewed]);
    const file = await readFile(join(dir, 'out.bin'));
    expect(file.equals(Buffer.concat([head, source]))).to.equal(true);
    expect(result).to.deep.equal({ sha256: createHash('sha256').update(file).digest('hex'), bytes: file.byteLength });
  });
});
