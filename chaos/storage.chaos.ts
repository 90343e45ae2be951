import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStorage, RunLayout, parseMarker } from '@poke/plugin-storage';
import { useS3Server } from '../test/s3-server.js';
import type { S3Server } from '../test/s3-server.js';
import { tempDir } from '../packages/core/test/helpers.js';
import { summary, start, poke, holdAt, verifyCheckpoints, csvRows, comparable } from './support.js';

/** 600 samples, 10% held out, batches of 64: 9 steps an epoch. */
const CONFIG = {
  seed: 5,
  data: { source: 'synthetic', samples: 600, features: 12, actions: 5 },
  model: { hiddenSizes: [16] },
  train: { epochs: 4, batchSize: 64, logEvery: 3, backend: 'cpu' },
  plugins: [['@poke/plugin-checkpoint', { every: { steps: 4 } }], ['@poke/plugin-retention', { maxToKeep: 2, keepBest: false }], '@poke/plugin-csv'],
};

/**
 * Without retention: every upload pass commits checkpoints one by one, so the
 * second commit's cut leaves exactly one committed and one partial checkpoint,
 * however fast the machine.
 */
const NO_RETENTION = { ...CONFIG, plugins: [CONFIG.plugins[0], CONFIG.plugins[2]] };

/** What the checkpoint plugin prints once a save is on disk. */
const SAVED = /^checkpoint: saved /m;

describe('chaos: runs on S3-compatible storage', function () {
  this.timeout(10 * 60_000);
  const { server: s3 } = useS3Server();
  let server: S3Server;
  before(() => {
    server = s3();
  });

  /** `--storage` and what the server needs, for a run under `prefix`; quick retries for a test. */
  function storageArgs(prefix: string, options: Record<string, number> = {}): string[] {
    return [
      '--storage', `s3://${server.bucket}/${prefix}`,
      '--set', `storage.endpoint=${server.endpoint}`,
      '--set', 'storage.forcePathStyle=true',
      '--plugin', `storage=${JSON.stringify({ retrySeconds: 0.5, ...options })}`,
    ];
  }

  async function project(config: object = CONFIG): Promise<string> {
    const dir = await tempDir('chaos-storage');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
    return dir;
  }

  /** The server's view of a run, through the S3 API: committed checkpoints, and every checkpoint folder with files. */
  async function remote(prefix: string, runName: string) {
    const { bucket } = openStorage({ url: `s3://${server.bucket}/${prefix}`, endpoint: server.endpoint, forcePathStyle: true }, { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    const layout = new RunLayout(prefix, runName);
    try {
      const objects = await bucket.list(`${layout.root}/`);
      const committed = objects.map((o) => layout.markerId(o.key)).filter((id): id is string => id !== undefined).sort();
      const folders = [...new Set(objects.map((o) => layout.folderId(o.key)).filter((id): id is string => id !== undefined))].sort();
      // Every committed checkpoint is whole: each file its marker lists downloads with that size and sha256.
      const scratch = await tempDir('chaos-download');
      for (const id of committed) {
        const marker = parseMarker((await bucket.getText(layout.marker(id)))!, id);
        for (const [name, digest] of Object.entries(marker.files)) await bucket.getFile(layout.checkpointFile(id, name), join(scratch, name), digest);
      }
      const runJson = await bucket.getText(layout.file('run.json'));
      return { committed, folders, runJson: runJson && JSON.parse(runJson) };
    } finally {
      bucket.client.destroy();
    }
  }

  async function localIds(runDir: string): Promise<string[]> {
    return JSON.parse(await readFile(join(runDir, 'checkpoints', 'checkpoints.json'), 'utf8')).entries.map((e: { id: string }) => e.id).sort();
  }

  it('SIGKILL between a checkpoint\'s files and its commit marker: nothing partial is visible, and the next run commits it', async () => {
    const dir = await project(NO_RETENTION);
    const args = ['train', '--no-progress', '--run-name', 'killed', '--resume', 'auto', ...storageArgs('killed')];
    const killed = await poke(args, dir, { ...server.env, POKE_FAULT_AT: 'storage-before-commit:2' });
    expect(killed.signal, killed.stderr).to.equal('SIGKILL');
    const cut = await remote('killed', 'killed');
    // The second commit was cut: its files are there without a marker, so no reader takes it
    // (remote() checked every committed one whole).
    expect(cut.committed, 'only the commit before the cut').to.have.length(1);
    expect(cut.folders.filter((id) => !cut.committed.includes(id)), 'the upload cut between files and marker').to.have.length(1);

    const again = await poke(args, dir, server.env);
    expect(again.code, again.stderr).to.equal(0);
    const runDir = join(dir, 'runs', 'killed');
    await verifyCheckpoints(runDir);
    const after = await remote('killed', 'killed');
    expect(after.committed).to.deep.equal(await localIds(runDir));
    expect(after.folders).to.deep.equal(after.committed);
    expect(after.runJson.status).to.equal('completed');
    summary.push({ scenario: 'storage: SIGKILL mid-upload', runs: 2, faults: 1, resumed: 1, recordsLost: 0 });
  });

  it('server down for a whole run: training is unaffected, and poke storage sync uploads everything afterwards', async () => {
    const dir = await project();
    const reference = await poke(['train', '--no-progress', '--run-name', 'reference'], dir);
    expect(reference.code, reference.stderr).to.equal(0);
    await server.stop();
    let down;
    try {
      down = await poke(['train', '--no-progress', '--run-name', 'down', ...storageArgs('down')], dir, server.env);
    } finally {
      await server.start();
    }
    expect(down.code, down.stderr).to.equal(0);
    expect(down.stderr).to.match(/storage s3:\/\/poke-test\/down: not reachable/);
    expect(down.stderr).to.match(/storage: the run is not fully uploaded to s3:\/\/poke-test\/down .*poke storage sync/);
    const runDir = join(dir, 'runs', 'down');
    expect(comparable(await csvRows(join(runDir, 'metrics.csv')))).to.deep.equal(comparable(await csvRows(join(dir, 'runs', 'reference', 'metrics.csv'))));

    const sync = await poke(['storage', 'sync', runDir], dir, server.env);
    expect(sync.code, sync.stderr).to.equal(0);
    const up = await remote('down', 'down');
    expect(up.committed).to.deep.equal(await localIds(runDir));
    expect(up.folders).to.deep.equal(up.committed);
    expect(up.runJson).to.deep.equal(JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')));
    summary.push({ scenario: 'storage: server down all run', runs: 2, faults: 1, resumed: 0, recordsLost: 0 });
  });

  it('a corrupt commit marker on the server: a new machine refuses that checkpoint and resumes from an older one', async () => {
    const first = await project();
    const args = (epochs: number) => ['train', '--no-progress', '--run-name', 'marker', '--resume', 'auto', '--set', `train.epochs=${epochs}`, ...storageArgs('marker')];
    expect((await poke(args(2), first, server.env)).code).to.equal(0);
    const before = await remote('marker', 'marker');
    const newest = before.committed.at(-1)!;
    await writeFile(server.objectPath(`marker/marker/checkpoints/${newest}.commit.json`), '{"format": "poke-remote-checkpoint/1", "id": ');
    const second = await project();
    const resumed = await poke(args(4), second, server.env);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.include(`storage: remote checkpoint ${newest} refused`);
    expect(resumed.stderr).to.include(`resume: loaded checkpoint ${before.committed.at(-2)} `);
    const after = await remote('marker', 'marker');
    expect(after.committed).to.deep.equal(await localIds(join(second, 'runs', 'marker')));
    summary.push({ scenario: 'storage: corrupt remote marker', runs: 2, faults: 1, resumed: 1, recordsLost: 0 });
  });

  it('wrong credentials: one clear line and exit code 2 before any step trains', async () => {
    const dir = await project();
    const wrong = { ...server.env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' };
    const result = await poke(['train', '--no-progress', '--run-name', 'denied', ...storageArgs('denied')], dir, wrong);
    expect(result.code, result.stderr).to.equal(2);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('poke: '));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/storage s3:\/\/poke-test\/denied: the server refused the credentials/);
    expect(result.stderr).to.not.include('wrong-secret-value');
    expect(result.stderr).to.not.match(SAVED);
    const rows = await csvRows(join(dir, 'runs', 'denied', 'metrics.csv')).catch(() => []);
    expect(rows).to.deep.equal([]);
    summary.push({ scenario: 'storage: wrong credentials', runs: 1, faults: 1, resumed: 0, recordsLost: 0 });
  });

  it('a server that stops answering mid-upload: the stall is reported, retried, and caught up once it answers', async () => {
    const dir = await project();
    const child = start(['train', '--no-progress', '--run-name', 'stalled', ...holdAt(30), ...storageArgs('stalled', { stallSeconds: 1, retrySeconds: 0.5 })], dir, server.env);
    try {
      await child.waitFor(SAVED);
      server.pause();
      await child.waitFor(/^warning: storage: upload failed \(.*stalled.*\); training goes on, retrying/m);
      server.resume();
      await child.waitFor(/^storage: caught up after \d+ failed/m);
      await child.waitFor(/^test: holding at step 30$/m);
    } finally {
      server.resume();
      child.kill('SIGINT');
    }
    const result = await child.result;
    expect(result.code, result.stderr).to.equal(130);
    const runDir = join(dir, 'runs', 'stalled');
    const up = await remote('stalled', 'stalled');
    expect(up.committed).to.deep.equal(await localIds(runDir));
    expect(up.runJson.status).to.equal('interrupted');
    summary.push({ scenario: 'storage: stalled upload', runs: 1, faults: 1, resumed: 0, recordsLost: 0 });
  });
});
