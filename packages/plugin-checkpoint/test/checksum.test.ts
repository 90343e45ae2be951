import { expect } from 'chai';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCheckpoint, CheckpointError } from '@poke/plugin-checkpoint';
import { crc32cChecksum } from '../src/checksum.js';
import { poke } from '../../cli/test/helpers.js';
import { REPO_ROOT, tempDir } from './helpers.js';

/** CRC-32C by its definition (reflected polynomial 0x82F63B78), a byte at a time from a table: what the fast one must equal. */
function crc32cReference(bytes: Uint8Array): string {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const b of bytes) crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** A checkpoint an earlier poke wrote: metadata.json version 1, each file with its sha256. */
const VERSION_1 = join(REPO_ROOT, 'packages', 'plugin-checkpoint', 'test', 'fixtures', 'version-1-checkpoint');

describe('checkpoint checksums', () => {
  it('are CRC-32C: the standard check value, and the reference over bytes fed in uneven pieces', () => {
    const check = crc32cChecksum();
    check.update(Buffer.from('123456789'));
    expect(check.hex()).to.equal('e3069283');

    const bytes = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 2654435761) >>> 24);
    const pieces = crc32cChecksum();
    for (let at = 0, size = 1; at < bytes.length; at += size, size = size * 3 + 1) pieces.update(bytes.subarray(at, at + size));
    expect(pieces.hex()).to.equal(crc32cReference(bytes));

    const empty = crc32cChecksum();
    expect(empty.hex(), 'no bytes: 8 digits, leading zeros kept').to.equal('00000000');
  });

  describe('metadata.json', () => {
    /** The version 1 fixture, copied, with its metadata.json changed by `edit`: what loading it says. */
    async function refusal(edit: (metadata: any) => void): Promise<string> {
      const dir = join(await tempDir('v1-edit'), 'epoch0001-step00000009');
      await cp(VERSION_1, dir, { recursive: true });
      const metadata = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
      edit(metadata);
      await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata));
      const err = await readCheckpoint(dir).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CheckpointError);
      return (err as Error).message;
    }

    it('refuses a file with both checksums or with neither, naming the file', async () => {
      const both = await refusal((m) => (m.files['weights.bin'].crc32c = '0a1b2c3d'));
      expect(both).to.match(/files\.weights\.bin must be \{ crc32c \} or \{ sha256 \}/);
      const neither = await refusal((m) => delete m.files['state.json'].sha256);
      expect(neither).to.match(/files\.state\.json is missing required key "sha256"/);
    });

    it('refuses a checksum of the other version, or a CRC-32C not of 8 lowercase hex digits', async () => {
      const v2WithSha256 = await refusal((m) => (m.version = 2));
      expect(v2WithSha256).to.match(/files\.[a-z.]+ is missing required key "crc32c"/);
      const v1WithCrc = await refusal((m) => {
        m.files['model.json'] = { bytes: m.files['model.json'].bytes, crc32c: '0a1b2c3d' };
      });
      expect(v1WithCrc).to.match(/files\.model\.json is missing required key "sha256"/);
      const short = await refusal((m) => {
        m.version = 2;
        for (const f of Object.keys(m.files)) m.files[f] = { bytes: m.files[f].bytes, crc32c: '0a1b2c3d' };
        m.files['weights.bin'].crc32c = 'A1B2C3D4';
      });
      expect(short).to.match(/files\.weights\.bin\.crc32c/);
    });
  });

  describe('a version-1 checkpoint, with sha256', () => {
    it('loads: every file checked against its sha256', async () => {
      const loaded = await readCheckpoint(VERSION_1);
      expect(loaded.metadata).to.include({ version: 1, id: 'epoch0001-step00000009' });
      expect(loaded.metadata.files['weights.bin']).to.have.keys('bytes', 'sha256');
      const weights = await readFile(join(VERSION_1, 'weights.bin'));
      expect(Buffer.concat(loaded.weights.map((w) => Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength))).equals(weights)).to.equal(true);
    });

    it('is refused when a byte changed, naming sha256', async () => {
      const dir = join(await tempDir('v1'), 'epoch0001-step00000009');
      await cp(VERSION_1, dir, { recursive: true });
      const bytes = await readFile(join(dir, 'optimizer.bin'));
      bytes[100] = bytes[100]! ^ 0x10;
      await writeFile(join(dir, 'optimizer.bin'), bytes);
      const err = await readCheckpoint(dir).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CheckpointError);
      expect((err as Error).message).to.equal('checkpoint epoch0001-step00000009: optimizer.bin: sha256 does not match metadata.json (altered or corrupt)');
    });

    it('is shown with its sha256 by poke ckpt show, and passes poke ckpt verify', async () => {
      const run = await tempDir('v1-show');
      const id = 'epoch0001-step00000009';
      await cp(VERSION_1, join(run, 'checkpoints', id), { recursive: true });
      const metadata = JSON.parse(await readFile(join(VERSION_1, 'metadata.json'), 'utf8'));
      const bytes = Object.values(metadata.files as Record<string, { bytes: number }>).reduce((sum, f) => sum + f.bytes, 0);
      const entry = { id, epoch: metadata.epoch, step: metadata.step, timestamp: metadata.timestamp, value: metadata.monitor.value, bytes, reason: metadata.reason };
      const manifest = { format: 'poke-checkpoints', version: 1, monitor: { name: 'val_loss', mode: 'min' }, entries: [entry], best: id, latest: id };
      await writeFile(join(run, 'checkpoints', 'checkpoints.json'), JSON.stringify(manifest));

      const show = await poke(['ckpt', 'show', run, id], run);
      expect(show.code, show.stderr).to.equal(0);
      expect(show.stdout).to.match(new RegExp(`^  weights\\.bin .* sha256 ${metadata.files['weights.bin'].sha256}$`, 'm'));
      const verify = await poke(['ckpt', 'verify', run], run);
      expect(verify.code, verify.stderr).to.equal(0);
      expect(verify.stdout).to.include(`ok    ${id}`);
    });
  });
});
