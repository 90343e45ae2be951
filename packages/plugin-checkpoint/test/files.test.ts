import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAll, writeUnsynced, WRITE_CHUNK, WRITES_QUEUED } from '../src/files.js';
import { crc32cChecksum } from '../src/checksum.js';
import { fileHandlePrototype, tempDir } from './helpers.js';
import type { FileHandleMethod } from './helpers.js';

/** A file written and fsynced, as each file of a checkpoint is before the checkpoint is published. */
async function writeSynced(path: string, data: Parameters<typeof writeUnsynced>[1]): Promise<{ crc32c: string; bytes: number }> {
  const { synced, ...record } = await writeUnsynced(path, data);
  await synced;
  return record;
}

function crc32cOf(bytes: Uint8Array): string {
  const checksum = crc32cChecksum();
  checksum.update(bytes);
  return checksum.hex();
}

describe('checkpoint file writing', () => {
  it('writes the rest of the bytes when a write takes only part of them', async () => {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    const written: number[] = [];
    // At most 3,000 bytes a call, as a write(2) interrupted by a signal may take.
    await writeAll({ write: async (buffer, offset, length) => {
      const n = Math.min(length, 3000);
      written.push(...buffer.subarray(offset, offset + n));
      return { bytesWritten: n };
    } }, bytes, 0);
    expect(Buffer.from(written).equals(Buffer.from(bytes))).to.equal(true);
  });

  it('fails, rather than looping, when a write takes nothing', async () => {
    const err = await writeAll({ write: async () => ({ bytesWritten: 0 }) }, new Uint8Array(8), 0).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('a write took none of 8 bytes');
  });

  it('copies each chunk from held bytes once, at its offset, into a target of the chunk’s size', async () => {
    const dir = await tempDir('files');
    const size = 2 * WRITE_CHUNK + 3; // three chunks
    const source = Uint8Array.from({ length: size }, (_, i) => (i * 13) % 256);
    const copies: Array<[number, number]> = [];
    const held = {
      byteLength: size,
      copyTo: (target: Uint8Array, offset: number) => {
        copies.push([offset, target.byteLength]);
        target.set(source.subarray(offset, offset + target.byteLength));
      },
    };
    const result = await writeSynced(join(dir, 'held.bin'), [held]);
    const file = await readFile(join(dir, 'held.bin'));
    expect(copies).to.deep.equal([[0, WRITE_CHUNK], [WRITE_CHUNK, WRITE_CHUNK], [2 * WRITE_CHUNK, 3]]);
    expect(file.equals(source)).to.equal(true);
    expect(result.crc32c).to.equal(crc32cOf(source));
  });

  it('writes arrays and held bytes back to back, and returns the CRC-32C and size of the file', async () => {
    const dir = await tempDir('files');
    const source = Uint8Array.from({ length: (WRITES_QUEUED + 1) * WRITE_CHUNK + 5 }, (_, i) => (i * 7) % 256);
    // Bytes copied out on demand, as from the wasm heap or TensorFlow: more chunks than writes queued, so staging buffers are reused.
    const held = { byteLength: source.byteLength, copyTo: (target: Uint8Array, offset: number) => target.set(source.subarray(offset, offset + target.byteLength)) };
    const head = Uint8Array.of(1, 2, 3);
    const result = await writeSynced(join(dir, 'out.bin'), [head, held]);
    const file = await readFile(join(dir, 'out.bin'));
    expect(file.equals(Buffer.concat([head, source]))).to.equal(true);
    expect(result).to.deep.equal({ crc32c: crc32cOf(file), bytes: file.byteLength });
  });

  describe('while a write is on its way to the file', () => {
    let handles: { write: FileHandleMethod };
    let write: FileHandleMethod;
    const events: string[] = [];
    /** Writes started and not yet settled, and how many were at once at most. */
    const writes = { inFlight: 0, most: 0 };
    /** Writes in flight when each file was closed. */
    let atClose: number[] = [];
    before(async () => {
      handles = await fileHandlePrototype(await tempDir('files'));
      write = handles.write;
    });
    afterEach(() => {
      handles.write = write;
      atClose = [];
      events.length = 0;
      Object.assign(writes, { inFlight: 0, most: 0 });
    });
    /**
     * Each write reaches the file only after a turn of the event loop: until then the writer goes
     * on. With `total`, the count of writes to come, an even-numbered write waits until the one after
     * it has landed, as libuv's pool may finish them.
     */
    function delayWrites({ fail, total = 0 }: { fail?: (n: number) => Error | undefined; total?: number } = {}) {
      let n = 0;
      const landed = new Map<number, () => void>();
      const hasLanded = (i: number) => new Promise<void>((resolve) => landed.set(i, resolve));
      const waits = new Map<number, Promise<void>>();
      const closing = new WeakSet<object>();
      handles.write = async function (this: { close: FileHandleMethod }, ...args: unknown[]) {
        const i = n++;
        events.push(`write ${i}`);
        writes.most = Math.max(writes.most, ++writes.inFlight);
        // FileHandle's close is the handle's own property, not the prototype's: wrapped here, once.
        if (!closing.has(this)) {
          closing.add(this);
          const close = this.close;
          this.close = async (...a: unknown[]) => {
            atClose.push(writes.inFlight);
            return close.apply(this, a);
          };
        }
        if (i % 2 === 0 && i + 1 < total) waits.set(i, hasLanded(i + 1));
        try {
          await new Promise((resolve) => setImmediate(resolve));
          await waits.get(i);
          const error = fail?.(i);
          if (error) throw error;
          const result = await write.apply(this, args);
          events.push(`written ${i}`);
          landed.get(i)?.();
          return result;
        } finally {
          writes.inFlight--;
        }
      };
    }
    /** The file was closed once, with no write still on its way to it. */
    function expectClosedAfterWrites() {
      expect(atClose, 'writes in flight at each close').to.deep.equal([0]);
    }

    it('makes the next part while the one before is being written, and writes every part in order', async () => {
      delayWrites({ total: 6 });
      const dir = await tempDir('files');
      const sizes = [3, WRITE_CHUNK + 9, 5, 2 * WRITE_CHUNK];
      const expected = sizes.map((size, k) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + k) % 256));
      async function* parts() {
        for (const [k, part] of expected.entries()) {
          events.push(`make ${k}`);
          yield part;
        }
      }
      const result = await writeSynced(join(dir, 'made.bin'), parts());
      const file = await readFile(join(dir, 'made.bin'));
      expect(file.equals(Buffer.concat(expected))).to.equal(true);
      expect(result).to.deep.equal({ crc32c: crc32cOf(file), bytes: file.byteLength });
      // Part 1 is two chunks, writes 1 and 2; part 3 is writes 4 and 5.
      expect(events.indexOf('make 1'), 'part 1 made before write 0 is done').to.be.lessThan(events.indexOf('written 0'));
      expect(events.indexOf('make 2'), 'part 2 made before write 2 is done').to.be.lessThan(events.indexOf('written 2'));
      expect(events.filter((e) => e.startsWith('written'))).to.have.length(6);
      expect(events.indexOf('written 1'), 'write 1 landed first, at its place').to.be.lessThan(events.indexOf('written 0'));
      expect(writes.most, 'writes queued at once').to.equal(WRITES_QUEUED);
      expectClosedAfterWrites();
    });

    it('copies a held chunk into a buffer no write in flight is using, grown when a larger chunk comes', async () => {
      delayWrites();
      const dir = await tempDir('files');
      const source = Uint8Array.from({ length: (WRITES_QUEUED + 2) * WRITE_CHUNK + 12 }, (_, i) => (i * 7 + (i >> 20)) % 256);
      const held = (from: number, to: number) => ({ byteLength: to - from, copyTo: (target: Uint8Array, offset: number) => target.set(source.subarray(from + offset, from + offset + target.byteLength)) });
      // A small held part first, as a bias before a kernel: the buffer it took must grow for a later chunk.
      const result = await writeSynced(join(dir, 'staged.bin'), [held(0, 5), held(5, source.byteLength)]);
      const file = await readFile(join(dir, 'staged.bin'));
      expect(file.equals(source), 'the file holds the held bytes').to.equal(true);
      expect(result.crc32c).to.equal(crc32cOf(source));
    });

    it('fails with the write\'s own error, reported once, and closes the file', async () => {
      delayWrites({ fail: (i) => (i === 1 ? Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }) : undefined) });
      const dir = await tempDir('files');
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      let made = 0;
      async function* parts() {
        for (let k = 0; k < 8; k++) {
          made++;
          // Turns of the event loop while a part is made, as reading a tensor back takes: a write may fail meanwhile.
          for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
          yield new Uint8Array(2 * WRITE_CHUNK).fill(k);
        }
      }
      try {
        const err = await writeSynced(join(dir, 'failed.bin'), parts()).catch((e: unknown) => e);
        expect((err as NodeJS.ErrnoException).code).to.equal('EIO');
        // Unhandled rejections are reported after the microtasks of a turn: give them one.
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).to.deep.equal([]);
        expect(made, 'parts made once the failed write was seen').to.be.lessThan(8);
        expectClosedAfterWrites();
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('fails with the error of a copy, makes no more parts, and closes the file', async () => {
      delayWrites();
      const dir = await tempDir('files');
      const source = new Uint8Array(2 * WRITE_CHUNK);
      let made = 0;
      // The copy of part 3 fails, as one of a tensor disposed during the save would, while earlier writes are on their way.
      async function* parts() {
        for (let k = 0; k < 8; k++) {
          made++;
          yield {
            byteLength: source.byteLength,
            copyTo: (target: Uint8Array, offset: number) => {
              if (k === 3) throw new Error('the tensor was disposed while its bytes were being read');
              target.set(source.subarray(offset, offset + target.byteLength));
            },
          };
        }
      }
      const err = await writeSynced(join(dir, 'gone.bin'), parts()).catch((e: unknown) => e);
      expect((err as Error).message).to.equal('the tensor was disposed while its bytes were being read');
      expect(made, 'parts made once the copy had failed').to.equal(4);
      expectClosedAfterWrites();
    });
  });
});
