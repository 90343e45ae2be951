import { expect } from 'chai';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import retention from '@poke/plugin-retention';
import { isUserError } from '@poke/core';
import type { Trainer } from '@poke/core';
import { openStorage, RunLayout } from '@poke/plugin-storage';
import { freePort } from '../../plugin-mlflow/test/server.js';
import {
  useS3Server, storageConfig, storageTrainer, tempDir, weightsOf, collectRecords, rowsOf, recordingLogger, readJson,
} from './helpers.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('plugin-storage on a real S3-compatible server (s3proxy)', function () {
  const { server } = useS3Server();

  /** The keys under the run's prefix, relative to it. */
  async function remoteKeys(prefix: string, runName: string): Promise<string[]> {
    const { bucket } = openStorage({ ...storageConfig(server(), prefix), forcePathStyle: true }, { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    const root = new RunLayout(prefix, runName).root;
    const keys = (await bucket.list(`${root}/`)).map((o) => o.key.slice(root.length + 1));
    bucket.client.destroy();
    return keys.sort();
  }

  function markers(keys: string[]): string[] {
    return keys.filter((k) => k.endsWith('.commit.json')).map((k) => k.slice('checkpoints/'.length, -'.commit.json'.length));
  }

  it('uploads every checkpoint with a commit marker whose sha256s match the local files, and mirrors run.json, config.json and metrics.csv', async () => {
    const dir = await tempDir('storage');
    const trainer = await storageTrainer({ dir, user: { runName: 'mirror', train: { epochs: 2 }, storage: storageConfig(server(), 'mirror') } });
    await trainer.run();
    const runDir = trainer.context!.runDir;
    const local = (await readJson(join(runDir, 'checkpoints', 'checkpoints.json'))).entries.map((e: { id: string }) => e.id);
    const keys = await remoteKeys('mirror', 'mirror');
    expect(markers(keys)).to.deep.equal([...local].sort());
    for (const id of local) {
      const marker = JSON.parse(await readFile(server().objectPath(`mirror/mirror/checkpoints/${id}.commit.json`), 'utf8'));
      const files = (await readdir(join(runDir, 'checkpoints', id))).sort();
      expect(Object.keys(marker.files).sort()).to.deep.equal(files);
      for (const name of files) expect(marker.files[name].sha256).to.equal(sha256(await readFile(join(runDir, 'checkpoints', id, name))));
    }
    for (const name of ['run.json', 'config.json', 'metrics.csv']) {
      expect(await readFile(server().objectPath(`mirror/mirror/${name}`), 'utf8'), name).to.equal(await readFile(join(runDir, name), 'utf8'));
    }
    expect((await readJson(server().objectPath('mirror/mirror/run.json'))).status).to.equal('completed');
  });

  it('deletes remotely what retention deletes locally, leaving no files of a deleted checkpoint', async () => {
    const dir = await tempDir('storage');
    const trainer = await storageTrainer({
      dir,
      user: { runName: 'pruned', train: { epochs: 3 }, storage: storageConfig(server(), 'pruned') },
      checkpoint: { every: { steps: 4 } },
      extra: [retention({ maxToKeep: 1, keepBest: false })],
    });
    await trainer.run();
    const local = (await readJson(join(trainer.context!.runDir, 'checkpoints', 'checkpoints.json'))).entries.map((e: { id: string }) => e.id);
    const keys = await remoteKeys('pruned', 'pruned');
    expect(markers(keys)).to.deep.equal([...local].sort());
    const folders = new Set(keys.filter((k) => k.startsWith('checkpoints/') && k.slice('checkpoints/'.length).includes('/')).map((k) => k.split('/')[1]));
    expect([...folders].sort()).to.deep.equal([...local].sort());
  });

  it('refuses a new run whose name the server holds for another run, deleting nothing there', async () => {
    const first = await storageTrainer({ dir: await tempDir('storage'), user: { runName: 'taken', train: { epochs: 1 }, storage: storageConfig(server(), 'taken') } });
    await first.run();
    const before = await remoteKeys('taken', 'taken');
    const other = await storageTrainer({ dir: await tempDir('storage'), user: { runName: 'taken', train: { epochs: 1 }, storage: storageConfig(server(), 'taken') } });
    const err = await other.run().then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.include(`a run named taken is already there (run id ${first.context!.runId})`);
    expect(await remoteKeys('taken', 'taken')).to.deep.equal(before);
  });

  describe('resume on a new machine', () => {
    let straight: { weights: Float32Array[]; rows: ReturnType<typeof rowsOf> };

    before(async () => {
      const trainer = await storageTrainer({ dir: await tempDir('straight'), user: { runName: 'straight', train: { epochs: 4 } } });
      const records = collectRecords(trainer);
      await trainer.run();
      straight = { weights: await weightsOf(trainer), rows: rowsOf(records) };
    });

    /** Two epochs on one machine; the run's records. */
    async function firstMachine(prefix: string): Promise<Trainer & { rows: ReturnType<typeof rowsOf> }> {
      const trainer = await storageTrainer({ dir: await tempDir('machine-a'), user: { runName: 'job', train: { epochs: 2 }, storage: storageConfig(server(), prefix) } });
      const records = collectRecords(trainer);
      await trainer.run();
      return Object.assign(trainer, { rows: rowsOf(records) });
    }

    it('an empty folder with --resume auto fetches the run and ends bit for bit like an uninterrupted run', async () => {
      const first = await firstMachine('newmachine');
      const dir = await tempDir('machine-b');
      const second = await storageTrainer({ dir, user: { runName: 'job', train: { epochs: 4 }, storage: storageConfig(server(), 'newmachine') }, resume: 'auto' });
      const records = collectRecords(second);
      await second.run();
      expect(await weightsOf(second)).to.deep.equal(straight.weights);
      expect([...first.rows, ...rowsOf(records)]).to.deep.equal(straight.rows);
      const info = await readJson(join(dir, 'runs', 'job', 'run.json'));
      expect(info.resumes).to.equal(1);
      expect(info.id).to.equal(first.context!.runId);
    });

    it('refuses a remote checkpoint whose bytes do not match its marker and falls back to an older one', async () => {
      await firstMachine('corrupt');
      const keys = await remoteKeys('corrupt', 'job');
      const [older, newest] = markers(keys).sort().slice(-2) as [string, string];
      const path = server().objectPath(`corrupt/job/checkpoints/${newest}/weights.bin`);
      const bytes = await readFile(path);
      bytes[10] ^= 0xff;
      await writeFile(path, bytes);
      const logger = recordingLogger();
      const dir = await tempDir('machine-b');
      const second = await storageTrainer({ dir, user: { runName: 'job', train: { epochs: 4 }, storage: storageConfig(server(), 'corrupt') }, resume: 'auto', logger });
      await second.run();
      expect(logger.lines.join('\n')).to.match(new RegExp(`remote checkpoint ${newest} refused: .*weights\\.bin: .*sha256`));
      expect(logger.lines.join('\n')).to.include(`resume: loaded checkpoint ${older} `);
      expect(await weightsOf(second)).to.deep.equal(straight.weights);
      // The refused copy is replaced by the one this machine saved at the same step.
      const marker = JSON.parse(await readFile(server().objectPath(`corrupt/job/checkpoints/${newest}.commit.json`), 'utf8'));
      expect(marker.files['weights.bin'].sha256).to.equal(sha256(await readFile(path)));
    });
  });

  it('refuses to start anew a run missing here while the server does not answer', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const trainer = await storageTrainer({ dir: await tempDir('storage'), user: { runName: 'unknown', storage: { url: `s3://${server().bucket}/x`, endpoint: closed, forcePathStyle: true } }, resume: 'auto' });
    const err = await trainer.run().then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/could not fetch run unknown \(.*ECONNREFUSED/);
  });

  it('wrong credentials: one clear error at setup, before any step trains', async () => {
    const dir = await tempDir('storage');
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const trainer = await storageTrainer({ dir, user: { runName: 'denied', storage: storageConfig(server(), 'denied') } });
      let steps = 0;
      trainer.hooks.afterStep.tap('test', () => void steps++);
      const err = await trainer.run().then(() => undefined, (e: unknown) => e);
      expect(isUserError((err as { cause?: unknown }).cause) || isUserError(err), String(err)).to.equal(true);
      expect((err as Error).message).to.match(/storage s3:\/\/poke-test\/denied: the server refused the credentials \((SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied)/);
      expect((err as Error).message).to.not.include('not-the-secret');
      expect(steps).to.equal(0);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = secret;
    }
  });
});
