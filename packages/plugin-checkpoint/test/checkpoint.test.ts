import { expect } from 'chai';
import { readFile, writeFile, readdir, readlink, mkdir, rm, truncate, cp } from 'node:fs/promises';
import { readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError, PluginError, selectBackend } from '@poke/core';
import { snapshotOptimizer } from '@poke/core/internal';
import type { FlatAdam } from '@poke/core/internal';
import { requireNativeTensorflow, requireTensorDataInto, skipOrFail } from '../../../test/requirements.js';
import { openFiles } from '../../../test/open-files.js';
import { CheckpointPlugin, CheckpointManager, checkpointIOHandler, checkpointId, readCheckpoint, CheckpointError } from '@poke/plugin-checkpoint';
import type { Saved } from '@poke/plugin-checkpoint';
import { crc32cChecksum } from '../src/checksum.js';
import { writeCheckpointFiles } from '../src/format.js';
import { yieldToEventLoop } from '../src/files.js';
import type { CheckpointContent, CheckpointMetadata } from '../src/types.js';
import {
  adamStep, checkpointTrainer, checkpointsDir, collectRecords, fileHandlePrototype, readJson, recordingLogger, rowsOf, tempDir, weightsOf, makeTrainer, smallConfig,
} from './helpers.js';
import type { FileHandleMethod } from './helpers.js';

/** The arrays' bytes back to back: millions of floats compare in one call (chai's deep equal walks them one by one). */
const bytesOfAll = (arrays: readonly Float32Array[]) => Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));

const FILES = ['metadata.json', 'model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin'];

describe('plugin-checkpoint', () => {
  describe('save and load', () => {
    it('writes one folder per checkpoint in the tfjs layers format that tf.loadLayersModel reads back', async () => {
      const dir = await tempDir('ckpt');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } });
      await trainer.run();
      const ckpts = checkpointsDir(trainer);
      const manifest = await readJson(join(ckpts, 'checkpoints.json'));
      expect(manifest.entries.map((e: any) => e.id)).to.deep.equal(['epoch0001-step00000009', 'epoch0002-step00000018']);
      expect(manifest.latest).to.equal('epoch0002-step00000018');
      expect((await readdir(join(ckpts, manifest.latest))).sort()).to.deep.equal(FILES);

      const loaded = await tfl.loadLayersModel(checkpointIOHandler(join(ckpts, manifest.latest)));
      const x = tf.randomNormal([7, 12], 0, 1, 'float32', 5) as tf.Tensor2D;
      const expected = (trainer.model.predict(x) as tf.Tensor).dataSync();
      const actual = (loaded.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(actual)).to.deep.equal(Array.from(expected));
    });

    it('stores every CheckpointMetadata field, checksums, sizes, versions and the redacted config', async () => {
      const dir = await tempDir('ckpt');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } });
      await trainer.run();
      const path = join(checkpointsDir(trainer), 'epoch0001-step00000009');
      const m = await readJson(join(path, 'metadata.json'));
      expect(m).to.include({ format: 'poke-checkpoint', version: 2, id: 'epoch0001-step00000009', epoch: 1, step: 9, reason: 'validation', backend: 'cpu' });
      expect(m.uid).to.match(/^[0-9a-f-]{36}$/);
      for (const key of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy']) expect(m[key]).to.be.a('number');
      expect(m.monitor).to.deep.equal({ name: 'val_loss', mode: 'min', value: m.val_loss });
      expect(m.config.train.epochs).to.equal(1);
      expect(m.versions).to.have.keys('poke', 'tfjs');
      for (const file of FILES.filter((f) => f !== 'metadata.json')) {
        const bytes = await readFile(join(path, file));
        expect(m.files[file].bytes).to.equal(bytes.length);
        const crc = crc32cChecksum();
        crc.update(bytes);
        expect(m.files[file].crc32c).to.equal(crc.hex());
      }
      const state = await readJson(join(path, 'state.json'));
      expect(state).to.include({ epoch: 1, batch: 0, globalStep: 9 });
      const optimizer = await readJson(join(path, 'optimizer.json'));
      expect(optimizer.kind).to.equal('adam');
      expect(optimizer.iterations).to.equal(9);
      expect(optimizer.slots).to.have.length(8); // first and second moments of 4 tensors
    });
  });

  describe('best tracking', () => {
    it('decides the best after validation, keeps it reachable at checkpoints/best, and ignores saves between validations', async () => {
      const dir = await tempDir('best');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 3 } }, { every: { steps: 4 } });
      await trainer.run();
      const ckpts = checkpointsDir(trainer);
      const manifest = await readJson(join(ckpts, 'checkpoints.json'));
      const validated = manifest.entries.filter((e: any) => e.reason === 'validation');
      expect(validated).to.have.length(3);
      expect(manifest.entries.filter((e: any) => e.reason === 'steps').every((e: any) => e.value === null)).to.equal(true);
      const best = validated.reduce((a: any, b: any) => (b.value < a.value ? b : a));
      expect(manifest.best).to.equal(best.id);
      expect(await readlink(join(ckpts, 'best'))).to.equal(best.id);
      expect(await readlink(join(ckpts, 'latest'))).to.equal(manifest.latest);
      const viaLink = await readCheckpoint(join(ckpts, 'best'));
      expect(viaLink.metadata.id).to.equal(best.id);
    });

    it('keeps the earlier checkpoint on a tie and a worse value never replaces the best', async () => {
      const dir = await tempDir('best');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } });
      await trainer.run();
      const plugin = trainer.plugins[0] as CheckpointPlugin;
      const manager = plugin.manager!;
      // Save more checkpoints through the real pipeline, with values that tie and then worsen.
      const first = manager.getBest()!;
      trainer.state.globalStep = 20;
      await plugin.save('validation', first.value);
      trainer.state.globalStep = 30;
      await plugin.save('validation', first.value! + 1);
      expect(manager.getBest()!.id).to.equal(first.id);
      trainer.state.globalStep = 40;
      await plugin.save('validation', first.value! - 1);
      expect(manager.getBest()!.id).to.equal('epoch0001-step00000040');
    });

    it('monitors a maximised metric, and survives a resume without resetting to ±inf', async () => {
      const dir = await tempDir('best');
      const first = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } }, { monitor: 'val_accuracy' });
      await first.run();
      const before = await readJson(join(checkpointsDir(first), 'checkpoints.json'));
      expect(before.monitor).to.deep.equal({ name: 'val_accuracy', mode: 'max' });
      const second = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 3 } }, { monitor: 'val_accuracy' }, { resume: 'latest' });
      await second.run();
      const after = await readJson(join(checkpointsDir(second), 'checkpoints.json'));
      const values = after.entries.map((e: any) => e.value);
      const bestValue = Math.max(...values);
      expect(after.entries.find((e: any) => e.id === after.best).value).to.equal(bestValue);
      expect(after.entries.find((e: any) => e.value === bestValue).id).to.equal(after.best);
    });

    it('falls back to train_loss without a validation split, and refuses a metric that is never logged', async () => {
      const dir = await tempDir('best');
      const noVal = await checkpointTrainer(dir, { runName: 'a', data: { valFraction: 0 }, train: { epochs: 1 } });
      await noVal.run();
      expect((await readJson(join(checkpointsDir(noVal), 'checkpoints.json'))).monitor.name).to.equal('train_loss');
      const bad = await checkpointTrainer(dir, { runName: 'b', train: { epochs: 1 } }, { monitor: 'val_los' });
      const err = await bad.run().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PluginError);
      expect((err as PluginError).cause).to.be.instanceOf(UserError);
      expect((err as Error).message).to.include('options.monitor "val_los" is not a metric this run logs');
    });
  });

  describe('resume', () => {
    it('2 epochs + resume for 2 gives bitwise the weights and metric rows of 4 epochs straight', async () => {
      const dir = await tempDir('resume');
      const straight = await checkpointTrainer(dir, { runName: 'straight', train: { epochs: 4 } });
      const straightRows = collectRecords(straight);
      await straight.run();

      const first = await checkpointTrainer(dir, { runName: 'split', train: { epochs: 2 } });
      const firstRows = collectRecords(first);
      await first.run();
      const second = await checkpointTrainer(dir, { runName: 'split', train: { epochs: 4 } }, {}, { resume: 'latest' });
      const secondRows = collectRecords(second);
      await second.run();
      expect(await weightsOf(second)).to.deep.equal(await weightsOf(straight));
      expect(rowsOf([...firstRows, ...secondRows])).to.deep.equal(rowsOf(straightRows));
    });

    it('on tensorflow too, where Adam is TensorFlow\'s fused op: 2 epochs + resume for 2 gives bitwise 4 epochs straight', async function () {
      requireNativeTensorflow(this);
      const dir = await tempDir('resume-native');
      const train = { epochs: 4, backend: 'tensorflow' as const };
      const straight = await checkpointTrainer(dir, { runName: 'straight', train });
      await straight.run();
      await checkpointTrainer(dir, { runName: 'split', train: { ...train, epochs: 2 } }).then((t) => t.run());
      const second = await checkpointTrainer(dir, { runName: 'split', train }, {}, { resume: 'latest' });
      await second.run();
      expect(second.context!.backend).to.equal('tensorflow');
      expect(await weightsOf(second)).to.deep.equal(await weightsOf(straight));
      await selectBackend('cpu');
    });

    it('interrupted mid-epoch saves a last checkpoint, and resuming from it matches an uninterrupted run', async () => {
      const dir = await tempDir('resume');
      const straight = await checkpointTrainer(dir, { runName: 'straight', train: { epochs: 3 } });
      const straightRows = collectRecords(straight);
      await straight.run();

      const logger = recordingLogger();
      const first = await checkpointTrainer(dir, { runName: 'cut', train: { epochs: 3 } }, {}, { stopAt: 13, logger });
      const firstRows = collectRecords(first);
      const stopped = await first.run();
      expect(stopped.status).to.equal('interrupted');
      const manifest = await readJson(join(checkpointsDir(first), 'checkpoints.json'));
      expect(manifest.latest).to.equal('epoch0001-step00000013');
      expect(manifest.entries.at(-1).reason).to.equal('last');

      const second = await checkpointTrainer(dir, { runName: 'cut', train: { epochs: 3 } }, {}, { resume: 'latest' });
      const secondRows = collectRecords(second);
      await second.run();
      expect(await weightsOf(second)).to.deep.equal(await weightsOf(straight));
      const saved = await readCheckpoint(join(checkpointsDir(first), 'epoch0001-step00000013'));
      const kept = firstRows.filter((r) => r.step <= saved.state.lastLoggedStep);
      expect(rowsOf([...kept, ...secondRows])).to.deep.equal(rowsOf(straightRows));
    });

    it('resumes from best, from an id and from a path', async () => {
      const dir = await tempDir('resume');
      const first = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } }, { every: { steps: 5 } });
      await first.run();
      const ckpts = checkpointsDir(first);
      const manifest = await readJson(join(ckpts, 'checkpoints.json'));
      for (const which of ['best', 'epoch0000-step00000005', join(ckpts, 'epoch0001-step00000010')]) {
        const loadedIds: string[] = [];
        const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } }, { every: { steps: 5 } }, { resume: which });
        CheckpointPlugin.getHooks(trainer).loaded.tap('test', ({ metadata }) => void loadedIds.push(metadata.id));
        await trainer.run();
        const expected = which === 'best' ? manifest.best : which.slice(-22);
        expect(loadedIds).to.deep.equal([expected]);
      }
    });

    it('with --resume latest and no checkpoint yet, starts from the beginning and says so', async () => {
      const dir = await tempDir('resume');
      const first = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } }, { saveLast: false, onValidate: false, every: { steps: 1000 } }, { stopAt: 3 });
      await first.run();
      const logger = recordingLogger();
      const second = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } }, {}, { resume: 'latest', logger });
      const summary = await second.run();
      expect(summary.globalStep).to.equal(9);
      expect(logger.lines.join('\n')).to.include('no checkpoint yet');
    });

    it('refuses a checkpoint that does not fit the configured model, naming it', async () => {
      const dir = await tempDir('resume');
      await (await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } })).run();
      const other = await checkpointTrainer(dir, { runName: 'r', model: { hiddenSizes: [8] }, train: { epochs: 2 } }, {}, { resume: 'latest' });
      const err = await other.run().catch((e: unknown) => e);
      expect((err as Error).message).to.include('does not fit the configured model');
    });
  });

  describe('integrity', () => {
    async function savedRun(): Promise<{ dir: string; ckpts: string; ids: string[] }> {
      const dir = await tempDir('integrity');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 3 } });
      await trainer.run();
      const ckpts = checkpointsDir(trainer);
      const ids = (await readJson(join(ckpts, 'checkpoints.json'))).entries.map((e: any) => e.id);
      return { dir, ckpts, ids };
    }

    it('an altered or truncated file gives a clear error naming the file', async () => {
      const { ckpts, ids } = await savedRun();
      const weights = join(ckpts, ids[2], 'weights.bin');
      const bytes = await readFile(weights);
      bytes[3] = bytes[3]! ^ 1;
      await writeFile(weights, bytes);
      const altered = await readCheckpoint(join(ckpts, ids[2])).catch((e: unknown) => e);
      expect(altered).to.be.instanceOf(CheckpointError);
      expect((altered as Error).message).to.equal(`checkpoint ${ids[2]}: weights.bin: crc32c does not match metadata.json (altered or corrupt)`);
      await truncate(join(ckpts, ids[1], 'optimizer.bin'), 10);
      const truncated = await readCheckpoint(join(ckpts, ids[1])).catch((e: unknown) => e);
      expect((truncated as Error).message).to.match(new RegExp(`checkpoint ${ids[1]}: optimizer.bin: 10 bytes, expected \\d+ \\(truncated or altered\\)`));
    });

    it('--resume latest falls back to the newest checkpoint that verifies and says which it skipped', async () => {
      const { dir, ckpts, ids } = await savedRun();
      await writeFile(join(ckpts, ids[2], 'state.json'), '{"epoch": 99}');
      const logger = recordingLogger();
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 3 } }, {}, { resume: 'latest', logger });
      const summary = await trainer.run();
      expect(summary.status).to.equal('completed');
      const text = logger.lines.join('\n');
      expect(text).to.include(`skipped checkpoints that failed verification: checkpoint ${ids[2]}: state.json`);
      expect(text).to.include(`loaded checkpoint ${ids[1]}`);
    });

    it('poke ckpt verify finds the broken one', async () => {
      const { ckpts, ids } = await savedRun();
      await rm(join(ckpts, ids[0], 'model.json'));
      const manager = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' } });
      const results = await manager.verifyAll();
      expect(results.map((r) => r.ok)).to.deep.equal([false, true, true]);
      expect(results[0]!.error).to.equal(`checkpoint ${ids[0]}: model.json: missing`);
    });
  });

  describe('crash consistency', () => {
    it('on start removes temporary folders, drops entries whose folder is gone and re-indexes folders the manifest lacks', async () => {
      const dir = await tempDir('crash');
      const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 3 } });
      await trainer.run();
      const ckpts = checkpointsDir(trainer);
      const manifest = await readJson(join(ckpts, 'checkpoints.json'));
      const [a, b, c] = manifest.entries.map((e: any) => e.id);
      // A crash mid-save leaves a temporary folder; one between rename and manifest leaves an unlisted folder.
      await mkdir(join(ckpts, '.tmp-epoch0004-step00000036-abcd'));
      await writeFile(join(ckpts, '.tmp-epoch0004-step00000036-abcd', 'weights.bin'), 'partial');
      await writeFile(join(ckpts, 'checkpoints.json'), JSON.stringify({ ...manifest, entries: manifest.entries.slice(0, 2), latest: b }));
      await rm(join(ckpts, a), { recursive: true });
      const logger = recordingLogger();
      const manager = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' }, repair: true, logger });
      expect(manager.list().map((e) => e.id)).to.deep.equal([b, c]);
      expect(manager.currentManifest.latest).to.equal(c);
      expect((await readdir(ckpts)).filter((n) => n.startsWith('.tmp'))).to.deep.equal([]);
      expect(logger.lines.join('\n')).to.include(`${a} is listed in the manifest but its folder is gone`).and.include(`re-indexed checkpoint folders missing from the manifest: ${c}`);
      const reread = await readJson(join(ckpts, 'checkpoints.json'));
      expect(reread.entries.map((e: any) => e.id)).to.deep.equal([b, c]);
    });

    it('refuses manifest entries that point outside the checkpoints folder', async () => {
      const dir = await tempDir('crash');
      const ckpts = join(dir, 'checkpoints');
      await mkdir(ckpts, { recursive: true });
      for (const id of ['../../etc', '/abs/path', 'epoch0001-step00000009/../../x']) {
        const manifest = { format: 'poke-checkpoints', version: 1, monitor: { name: 'val_loss', mode: 'min' }, entries: [{ id, epoch: 1, step: 9, timestamp: 't', value: 1, bytes: 1, reason: 'validation' }], best: null, latest: null };
        await writeFile(join(ckpts, 'checkpoints.json'), JSON.stringify(manifest));
        const err = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' } }).catch((e: unknown) => e);
        expect(err, id).to.be.instanceOf(CheckpointError);
        expect((err as Error).message).to.include('must match pattern');
        const logger = recordingLogger();
        const repaired = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' }, repair: true, logger });
        expect(repaired.list()).to.deep.equal([]);
        expect(logger.lines.join('\n')).to.include('rebuilding it from the checkpoint folders');
      }
    });
  });

  describe('fsync', () => {
    let handles: { sync: FileHandleMethod; write: FileHandleMethod };
    let sync: FileHandleMethod;
    let write: FileHandleMethod;
    before(async function () {
      // Which file a handle writes is read from /proc/self/fd.
      if (!openFiles()) skipOrFail(this, { missing: 'no /proc/self/fd (these tests name open files through it, on Linux)', fix: 'run them on Linux' });
      handles = await fileHandlePrototype(await tempDir('fsync'));
      ({ sync, write } = handles);
    });
    /** Set once a test is over, a timed-out one included, so that its waits stop turning. */
    let over = false;
    /** Promise rejections no handler took while a test ran. */
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    beforeEach(() => {
      over = false;
      unhandled.length = 0;
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => {
      over = true;
      process.off('unhandledRejection', onUnhandled);
      Object.assign(handles, { sync, write });
    });

    const pathOf = (handle: { fd: number }) => readlinkSync(`/proc/self/fd/${handle.fd}`);
    const inTemp = (path: string) => basename(dirname(path)).startsWith('.tmp-');
    interface Asked {
      path: string;
      release: () => void;
      /** The fsync has succeeded, or failed. */
      settled: boolean;
      /** With `closeFails`, the failed file has been closed. */
      closed: boolean;
    }
    /**
     * Wraps fsync: with `hold`, a file in a checkpoint's temporary folder waits until the test
     * releases it (every other fsync goes ahead), and `fail` may then make one fail. Each call
     * is listed, by path.
     */
    function wrapSync({ hold = () => false, fail, closeFails = false }: { hold?: (path: string) => boolean; fail?: (path: string) => Error | undefined; closeFails?: boolean } = {}): Asked[] {
      const asked: Asked[] = [];
      handles.sync = async function (this: { fd: number; close: () => Promise<void> }, ...args: unknown[]) {
        const call: Asked = { path: pathOf(this), release: () => {}, settled: false, closed: false };
        asked.push(call);
        try {
          if (inTemp(call.path) && hold(call.path)) await new Promise<void>((resolve) => (call.release = resolve));
          const error = inTemp(call.path) ? fail?.(call.path) : undefined;
          if (error && closeFails) {
            // FileHandle's close is each handle's own property: this file's close closes it, then fails.
            const close = this.close;
            this.close = async () => {
              await close.call(this);
              call.closed = true;
              throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
            };
          }
          if (error) throw error;
          return await sync.apply(this, args);
        } finally {
          call.settled = true;
        }
      };
      return asked;
    }
    const tempFiles = (asked: Asked[]) => asked.filter((a) => inTemp(a.path));
    const names = (asked: Asked[]) => asked.map((a) => basename(a.path));
    const enospc = (call: string) => Object.assign(new Error(`ENOSPC: no space left on device, ${call}`), { code: 'ENOSPC' });
    /** Waits on observed progress, a turn of the event loop at a time; mocha's timeout ends a wait that never comes. */
    async function until(what: string, condition: () => boolean): Promise<void> {
      while (!condition() && !over) await yieldToEventLoop();
      expect(condition(), what).to.equal(true);
    }
    /** Files under `dir` that this process holds open. */
    function openUnder(dir: string): string[] {
      const real = realpathSync(dir);
      return openFiles()!.filter((path) => path.startsWith(real));
    }
    /** A run with one checkpoint saved, and what a second save would write (its content, a temporary folder for it). */
    async function savedOnce(dir: string) {
      const plugin = new CheckpointPlugin({ saveLast: false, onValidate: false, every: { steps: 1_000_000 } });
      const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir, { plugins: [plugin] });
      await trainer.run();
      await plugin.save('manual');
      const first = checkpointId(trainer.state.epoch, trainer.state.globalStep);
      trainer.state.globalStep += 1;
      const next = checkpointId(trainer.state.epoch, trainer.state.globalStep);
      const ckpts = checkpointsDir(trainer);
      const temp = join(ckpts, `.tmp-${next}-test`);
      await mkdir(temp);
      const content = () => (plugin as unknown as { capture(reason: string, value: null): CheckpointContent }).capture('manual', null);
      return { plugin, ckpts, first, next, temp, content };
    }
    /** A promise, and whether it has settled yet. */
    function watched<T>(promise: Promise<T>) {
      const state = { settled: false, result: promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ) };
      void state.result.finally(() => (state.settled = true));
      return state;
    }
    const disposeContent = (content: CheckpointContent) => {
      for (const t of [...content.weights.map((w) => w.tensor), ...content.optimizer.buffers]) t.dispose();
    };

    it('returns from writing a checkpoint\'s files only once every one is fsynced, each fsync going on while the next file is written', async () => {
      const { next, temp, content } = await savedOnce(await tempDir('fsync'));
      const written = content();
      const asked = wrapSync({ hold: () => true });
      const writing = watched(writeCheckpointFiles(temp, next, written));
      await until('every file of the checkpoint written, with no fsync of them done', () => tempFiles(asked).length === FILES.length);
      expect(names(tempFiles(asked))).to.deep.equal(['weights.bin', 'model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'metadata.json']);
      // Nothing but microtasks lies between the last fsync asked for and a return that does not wait: one turn shows it.
      await yieldToEventLoop();
      expect(writing.settled, 'returned before any file was fsynced').to.equal(false);
      const [weights, ...others] = tempFiles(asked);
      for (const call of others) call.release();
      await until('the other five fsyncs done', () => others.every((a) => a.settled));
      await yieldToEventLoop();
      expect(writing.settled, 'returned before weights.bin was fsynced').to.equal(false);
      weights!.release();
      const { value: metadata } = (await writing.result) as { value: CheckpointMetadata };
      expect(Object.keys(metadata.files).sort()).to.deep.equal(FILES.filter((f) => f !== 'metadata.json'));
      expect(openUnder(temp)).to.deep.equal([]);
      disposeContent(written);
    });

    it('fails with a failed fsync\'s own error, not its close\'s, once every other fsync has settled, with no file left open', async () => {
      const { next, temp, content } = await savedOnce(await tempDir('fsync'));
      const written = content();
      // A disk that fills up may say so only at the fsync, when space is allocated late. The
      // first file's fsync fails, and its close too, while the later files are still to be written.
      const asked = wrapSync({ hold: (path) => !path.endsWith('weights.bin'), closeFails: true, fail: (path) => (path.endsWith('weights.bin') ? enospc('fsync') : undefined) });
      let letWrite = () => {};
      const writeHeld = new Promise<void>((resolve) => (letWrite = resolve));
      handles.write = async function (this: { fd: number }, ...args: unknown[]) {
        if (pathOf(this).endsWith('optimizer.bin')) await writeHeld;
        return write.apply(this, args);
      };
      const writing = watched(writeCheckpointFiles(temp, next, written));
      await until('weights.bin\'s fsync failed and its file closed', () => asked[0]?.closed === true);
      // Its failure is not awaited until every file is written: it must not be reported as unhandled meanwhile.
      await yieldToEventLoop();
      expect(unhandled).to.deep.equal([]);
      letWrite();
      await until('every file of the checkpoint written', () => tempFiles(asked).length === FILES.length);
      // Nothing but microtasks lies between the last file written and a failure that does not wait for the other fsyncs: one turn shows it.
      await yieldToEventLoop();
      expect(writing.settled, 'failed while the other fsyncs were going on').to.equal(false);
      for (const call of tempFiles(asked)) call.release();
      const { error } = (await writing.result) as { error: NodeJS.ErrnoException };
      expect(error.code).to.equal('ENOSPC');
      expect(error.message).to.include('fsync');
      expect(tempFiles(asked).every((a) => a.settled)).to.equal(true);
      expect(openUnder(temp)).to.deep.equal([]);
      await yieldToEventLoop();
      expect(unhandled).to.deep.equal([]);
      disposeContent(written);
    });

    it('fails with a failed write\'s own error once the fsyncs of the files before it have settled, with no file left open', async () => {
      const { next, temp, content } = await savedOnce(await tempDir('fsync'));
      const written = content();
      const asked = wrapSync({ hold: () => true });
      let closed = false;
      handles.write = async function (this: { fd: number; close: () => Promise<void> }, ...args: unknown[]) {
        if (!pathOf(this).endsWith('optimizer.bin')) return write.apply(this, args);
        // FileHandle's close is each handle's own property: the failing file's close is watched here.
        const close = this.close;
        this.close = async () => {
          await close.call(this);
          closed = true;
        };
        throw enospc('write');
      };
      const writing = watched(writeCheckpointFiles(temp, next, written));
      await until('the failing file closed', () => closed);
      // Nothing but microtasks lies between that close and a failure that does not wait for the fsyncs: one turn shows it.
      await yieldToEventLoop();
      expect(writing.settled, 'failed while the files before it were being fsynced').to.equal(false);
      expect(names(tempFiles(asked))).to.deep.equal(['weights.bin', 'model.json']);
      for (const call of tempFiles(asked)) call.release();
      const { error } = (await writing.result) as { error: NodeJS.ErrnoException };
      expect(error.code).to.equal('ENOSPC');
      expect(error.message).to.include('write');
      expect(openUnder(temp)).to.deep.equal([]);
      disposeContent(written);
    });

    it('a failed fsync fails the save as a full disk, publishing nothing and leaving the earlier checkpoints as they were', async () => {
      const { plugin, ckpts, first, temp } = await savedOnce(await tempDir('fsync'));
      await rm(temp, { recursive: true });
      const manifest = await readFile(join(ckpts, 'checkpoints.json'), 'utf8');
      wrapSync({ fail: (path) => (path.endsWith('optimizer.bin') ? enospc('fsync') : undefined) });
      const err = await plugin.save('manual').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CheckpointError);
      expect((err as Error).message).to.include('no space left on device (ENOSPC)').and.include('the previous checkpoints and the manifest are intact');
      expect(openUnder(ckpts)).to.deep.equal([]);
      expect(await readdir(ckpts)).to.have.members(['checkpoints.json', first, 'latest']);
      expect(await readFile(join(ckpts, 'checkpoints.json'), 'utf8')).to.equal(manifest);
      await plugin.manager!.load(first);
    });
  });

  describe('async saves', () => {
    it('write the same checkpoints as synchronous saves: no later step leaks into a snapshot', async () => {
      const dir = await tempDir('async');
      const hashes: Record<string, string[]> = {};
      for (const mode of [false, true]) {
        const trainer = await checkpointTrainer(dir, { runName: `a-${mode}`, train: { epochs: 2 } }, { every: { steps: 1 }, async: mode });
        const saved: string[] = [];
        CheckpointPlugin.getHooks(trainer).saved.tap('test', ({ entry }: Saved) => void saved.push(entry.id));
        await trainer.run();
        const ckpts = checkpointsDir(trainer);
        const manifest = await readJson(join(ckpts, 'checkpoints.json'));
        expect(saved).to.deep.equal(manifest.entries.map((e: any) => e.id));
        hashes[String(mode)] = await Promise.all(
          manifest.entries.map(async (e: any) => {
            const m = await readJson(join(ckpts, e.id, 'metadata.json'));
            return `${e.id} ${m.files['weights.bin'].crc32c} ${m.files['optimizer.bin'].crc32c} ${m.files['state.json'].crc32c}`;
          }),
        );
      }
      expect(hashes.true).to.have.length(20); // 18 steps + 2 end-of-epoch validations
      expect(hashes.true).to.deep.equal(hashes.false);
    });

    const cases = {
      cpu: 'cpu',
      tensorflow: 'tensorflow, nothing read back: copied out of TensorFlow into the writes’ buffers',
      sliced: 'tensorflow on an addon without tensorDataInto, a large tensor read back in slices',
      wasm: 'wasm, nothing read back: copied from the heap into the writes’ buffers while the heap grows',
    } as const;
    for (const way of ['cpu', 'tensorflow', 'sliced', 'wasm'] as const) {
      const backend = way === 'sliced' ? 'tensorflow' : way;
      it(`let training run during the save, and keep the values of their moment (${cases[way]})`, async function () {
        if (backend === 'tensorflow') requireNativeTensorflow(this);
        const dir = await tempDir(`async-reads-${way}`);
        const plugin = new CheckpointPlugin({ async: true, saveLast: false, onValidate: false, every: { steps: 1_000_000 } });
        // A 2100×2100 kernel: 4.41M elements, above the size tensorflow reads back in one go.
        const user = smallConfig({ runName: 'r', model: { hiddenSizes: [2100, 2100], dropout: 0 }, train: { epochs: 1, backend } });
        let trainer: Awaited<ReturnType<typeof makeTrainer>> | undefined;
        let restoreRead = () => {};
        let restoreWrite = () => {};
        let restoreBinding = () => {};
        const held: tf.Tensor[] = [];
        try {
          trainer = await makeTrainer({ ...user, data: { source: 'synthetic', samples: 64, features: 12, actions: 5 } }, dir, { plugins: [plugin] });
          await trainer.run();
          expect(trainer.context!.backend).to.equal(backend);
          const slots = snapshotOptimizer(trainer.optimizer).buffers;
          const atSave = {
            weights: await weightsOf(trainer),
            optimizer: await Promise.all(slots.map(async (t) => Float32Array.from((await t.data()) as Float32Array))),
          };
          tf.dispose([...slots]);
          // Each read of tensor data, with the event-loop turns taken before it.
          let turns = 0;
          const reads: Array<{ bytes: number; turns: number }> = [];
          const used = tf.backend();
          if (backend === 'tensorflow') {
            const native = used as unknown as { binding: { tensorDataInto?: unknown } };
            const { binding } = native;
            if (way === 'tensorflow') requireTensorDataInto(this, binding);
            // The addon as published: its exported functions cannot be deleted, so they are shadowed.
            else native.binding = Object.create(binding, { tensorDataInto: { value: undefined } });
            restoreBinding = () => void (native.binding = binding);
          }
          const read = used.read;
          used.read = async function (this: typeof used, dataId) {
            const values = await read.call(this, dataId);
            reads.push({ bytes: (values as Float32Array).byteLength, turns });
            return values;
          };
          // On wasm, data() and dataSync() both end in readSync: any read-back is counted.
          const readSync = used.readSync;
          if (backend === 'wasm') {
            used.readSync = function (this: typeof used, dataId) {
              const values = readSync.call(this, dataId);
              reads.push({ bytes: (values as Float32Array).byteLength, turns });
              return values;
            };
          }
          restoreRead = () => {
            delete (used as { read?: unknown }).read;
            delete (used as { readSync?: unknown }).readSync;
          };
          // On wasm, each of the save's first writes is followed by 32 MB more on the heap, so the heap
          // grows, and its old buffer is detached, between the copies the save takes from it.
          const heap = () => (used as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
          let growths = 0;
          let writes = 0;
          const readsBack = way === 'cpu' || way === 'sliced';
          {
            const handles = await fileHandlePrototype(dir);
            const write = handles.write;
            handles.write = async function (this: unknown, ...args: unknown[]) {
              const result = await write.apply(this, args);
              writes++;
              if (backend === 'wasm' && held.length < 8) {
                const before = heap();
                held.push(tf.zeros([8 * 1024 * 1024]));
                if (heap() !== before) growths++;
              }
              return result;
            };
            restoreWrite = () => void (handles.write = write);
          }
          trainer.state.globalStep += 1;
          await plugin.save('manual');
          let writing = true;
          // Settles whether the save succeeds or fails; a failed one leaves no checkpoint to load below.
          const written = plugin.manager!.idle().finally(() => (writing = false));
          let stepped = false;
          while (writing) {
            await new Promise((resolve) => setImmediate(resolve));
            turns++;
            // A training step while the save is reading its tensors back, or while it copies and writes them.
            if (!stepped && (reads.length > 0 || (writes > 0 && !readsBack))) {
              adamStep(trainer.model, trainer.optimizer as FlatAdam, 12, 5, 5);
              stepped = true;
            }
          }
          await written;
          restoreRead();
          restoreWrite();
          restoreBinding();
          expect(stepped).to.equal(true);
          // wasm and tensorflow: only scalars are read (Adam's β powers, for optimizer.json), no tensor of the files.
          const tensorReads = readsBack ? reads : reads.filter((r) => r.bytes > 4);
          // sliced: 6 weights and 12 moments; the 2100×2100 kernel and its two moments in 17 slices of 1 MiB each.
          expect(tensorReads).to.have.length({ cpu: 8, tensorflow: 0, sliced: 15 + 3 * 17, wasm: 0 }[way]);
          tensorReads.slice(1).forEach((r, i) => expect(r.turns, `turns before read ${i + 1}`).to.be.greaterThan(tensorReads[i]!.turns));
          const largest = 2100 * 2100 * 4;
          if (way === 'sliced') expect(Math.max(...reads.map((r) => r.bytes))).to.be.lessThan(largest);
          if (way === 'cpu') expect(reads.map((r) => r.bytes)).to.include(largest);
          if (backend === 'wasm') expect(growths, 'times the heap grew while the save wrote').to.be.greaterThan(0);
          const latest = plugin.manager!.getLatest();
          expect(latest?.reason, 'the save succeeded').to.equal('manual');
          const loaded = await readCheckpoint(plugin.manager!.pathOf(latest!.id));
          expect(bytesOfAll(loaded.weights.map((w) => w.values)).equals(bytesOfAll(atSave.weights)), 'weights.bin holds the weights at the save').to.equal(true);
          expect(bytesOfAll(loaded.optimizer.slots.map((s) => s.values)).equals(bytesOfAll(atSave.optimizer)), 'optimizer.bin holds the slots at the save').to.equal(true);
          expect(bytesOfAll(await weightsOf(trainer)).equals(bytesOfAll(atSave.weights)), 'the step moved the live weights').to.equal(false);
        } finally {
          restoreRead();
          restoreWrite();
          restoreBinding();
          tf.dispose(held);
          trainer?.model.dispose();
          trainer?.optimizer.dispose();
          await selectBackend('cpu');
        }
      });
    }
  });

  it('warns when a checkpoint is over maxBytes', async () => {
    const dir = await tempDir('size');
    const logger = recordingLogger();
    await (await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } }, { maxBytes: 100 }, { logger })).run();
    expect(logger.lines.join('\n')).to.match(/checkpoint epoch0001-step00000009 is \d+ bytes, over maxBytes 100/);
  });

  it('rejects invalid options naming the plugin and the option path', () => {
    expect(() => new CheckpointPlugin({ every: { steps: 0 } } as never)).to.throw(UserError, 'plugin poke:checkpoint: options.every');
    expect(() => new CheckpointPlugin({ mode: 'up' } as never)).to.throw(UserError, 'plugin poke:checkpoint: options.mode must be one of "min", "max"');
    expect(() => new CheckpointPlugin({ keep: 3 } as never)).to.throw(UserError, 'unknown key "keep" in options');
  });

  it('names the plugin when a tap on its hooks throws', async () => {
    const dir = await tempDir('hooks');
    const trainer = await checkpointTrainer(dir, { runName: 'r', train: { epochs: 1 } });
    CheckpointPlugin.getHooks(trainer).saved.tapPromise('acme:uploader', async () => {
      throw new Error('quota exceeded');
    });
    const err = await trainer.run().catch((e: unknown) => e);
    expect((err as Error).message).to.include('plugin acme:uploader failed in checkpoint.saved: quota exceeded');
  });
});
