import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, selectBackend } from '@poke/core';
import { captureOptimizer, captureWeights, restoreOptimizer, restoreWeights } from '@poke/core/internal';
import type { PokePlugin, Trainer, TrainingStateSnapshot, MetricsRecord } from '@poke/core';
import type { OptimizerState, SavedTensor } from '@poke/core/internal';
import { makeTrainer, smallConfig, tempDir, weightsOf } from './helpers.js';

interface Saved {
  state: TrainingStateSnapshot;
  weights: SavedTensor[];
  optimizer: OptimizerState;
}

/**
 * A minimal in-memory checkpoint: saves at `atStep`, then stops the run; on
 * resume hands the state back. Proves the core's state is complete for an exact resume.
 */
function memoryCheckpoint(store: { saved?: Saved }, atStep?: number): PokePlugin {
  return {
    name: 'test:memory-checkpoint',
    apply(trainer: Trainer) {
      trainer.hooks.afterStep.tap('test:memory-checkpoint', ({ globalStep }) => {
        if (globalStep !== atStep) return;
        store.saved = { state: trainer.snapshot(), weights: captureWeights(trainer.model), optimizer: captureOptimizer(trainer.optimizer) };
        trainer.stop('test');
      });
      trainer.hooks.resume.tapPromise('test:memory-checkpoint', async () => {
        if (!store.saved) return undefined;
        restoreWeights(trainer.model, store.saved.weights);
        await restoreOptimizer(trainer.optimizer, store.saved.optimizer);
        return store.saved.state;
      });
    },
  };
}

function rowsOf(records: MetricsRecord[]) {
  // Timing is the only thing allowed to differ between two runs.
  return records.map((r) => ({ step: r.step, epoch: r.epoch, metrics: { ...r.metrics, samples_per_sec: 0 } }));
}

function collect(trainer: Trainer): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  trainer.hooks.log.tap('test:collect', (r) => void records.push(r));
  return records;
}

describe('Trainer', () => {
  it('learns the synthetic teacher well above chance', async () => {
    const dir = await tempDir('learn');
    const trainer = await makeTrainer(
      smallConfig({ data: { samples: 3000, features: 16, actions: 6, noise: 0 }, model: { hiddenSizes: [64], dropout: 0 }, train: { epochs: 6, batchSize: 64 } }),
      dir,
    );
    const summary = await trainer.run();
    // With ~70% of 6 actions legal, guessing a legal action is right ~24% of the time.
    expect(summary.finalMetrics.val_accuracy).to.be.greaterThan(0.75);
    expect(summary.finalMetrics.val_loss).to.be.lessThan(summary.finalMetrics.train_loss! + 0.5);
  });

  it('gives bitwise identical weights for the same seed on cpu, different ones for another seed', async () => {
    const dir = await tempDir('determinism');
    const runs = [];
    for (const seed of [11, 11, 12]) {
      const trainer = await makeTrainer(smallConfig({ seed }), dir);
      await trainer.run();
      runs.push(await weightsOf(trainer));
    }
    expect(runs[0]).to.deep.equal(runs[1]);
    expect(runs[0]).to.not.deep.equal(runs[2]);
  });

  for (const atStep of [9, 13]) {
    it(`resumes ${atStep === 9 ? 'at an epoch boundary' : 'mid-epoch'} to the same weights and metric rows as an uninterrupted run`, async () => {
      const dir = await tempDir('resume');
      const config = smallConfig({ runName: 'straight', train: { epochs: 3 } });
      const straight = await makeTrainer(config, dir);
      const straightRows = collect(straight);
      await straight.run();

      const store: { saved?: Saved } = {};
      const first = await makeTrainer({ ...config, runName: 'resumed' }, dir, { plugins: [memoryCheckpoint(store, atStep)] });
      const firstRows = collect(first);
      const stopped = await first.run();
      expect(stopped.status).to.equal('interrupted');
      expect(stopped.globalStep).to.equal(atStep);

      const second = await makeTrainer({ ...config, runName: 'resumed' }, dir, { plugins: [memoryCheckpoint(store)], resume: 'latest' });
      const secondRows = collect(second);
      const summary = await second.run();
      expect(summary.status).to.equal('completed');
      expect(await weightsOf(second)).to.deep.equal(await weightsOf(straight));
      // What a logger keeps: rows up to the saved lastLoggedStep, then what the resumed run emits.
      const kept = firstRows.filter((r) => r.step <= store.saved!.state.lastLoggedStep);
      expect(rowsOf([...kept, ...secondRows])).to.deep.equal(rowsOf(straightRows));
      const info = JSON.parse(await readFile(join(dir, 'runs', 'resumed', 'run.json'), 'utf8'));
      expect(info).to.include({ status: 'completed', resumes: 1 });
    });
  }

  it('dispose frees what the run kept: the model and the optimizer, and nothing else is left', async () => {
    const dir = await tempDir();
    const trainer = await makeTrainer(smallConfig(), dir);
    await selectBackend('cpu');
    const before = tf.memory().numTensors;
    expect(() => trainer.model).to.throw('trainer.model is not built yet: run() builds');
    await trainer.run();
    // The weights and Adam's slots outlive the run, for whoever reads the trained model.
    expect(tf.memory().numTensors).to.be.greaterThan(before);
    expect(trainer.dataset.size).to.be.greaterThan(0);
    trainer.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    expect(() => trainer.model).to.throw('trainer.model is gone: trainer.dispose() was called');
    expect(() => trainer.dataset).to.throw('trainer.dataset is gone');
  });

  it('run.json follows the run epoch by epoch, and activeSeconds leaves out the time a run sat interrupted', async () => {
    const dir = await tempDir('active');
    const runJson = () => readFile(join(dir, 'runs', 'paused', 'run.json'), 'utf8').then((t) => JSON.parse(t));
    const first = await makeTrainer(smallConfig({ runName: 'paused', train: { epochs: 3 } }), dir);
    const seen: Array<{ status: string; epoch: number }> = [];
    first.hooks.beforeEpoch.tapPromise('test:reader', async ({ epoch }) => {
      if (epoch > 0) seen.push({ status: (await runJson()).status, epoch: (await runJson()).progress.epoch });
    });
    first.hooks.afterStep.tap('test:stopper', ({ epoch, batch }) => {
      if (epoch === 2 && batch === 0) first.stop();
    });
    await first.run();
    // Each epoch's end was on disk before the next epoch started.
    expect(seen).to.deep.equal([{ status: 'running', epoch: 1 }, { status: 'running', epoch: 2 }]);
    const paused = await runJson();
    expect(paused.status).to.equal('interrupted');
    expect(paused.activeSeconds).to.be.a('number').and.at.least(0);
    await new Promise((r) => setTimeout(r, 1500));
    // A plain restart of the same run (no checkpoint plugin here): the session count and pause are what matter.
    const second = await makeTrainer(smallConfig({ runName: 'paused', train: { epochs: 3 } }), dir, { resume: 'latest', plugins: [{ name: 'test:state', apply: (t) => t.hooks.resume.tapPromise('test:state', async () => first.snapshot()) }] });
    await second.run();
    const done = await runJson();
    expect(done).to.include({ status: 'completed', resumes: 1 });
    expect(done.activeSeconds).to.be.greaterThan(paused.activeSeconds);
    // The 1.5 s between the sessions is in createdAt → updatedAt but not in activeSeconds.
    const wall = (Date.parse(done.updatedAt) - Date.parse(done.createdAt)) / 1000;
    expect(wall - done.activeSeconds).to.be.at.least(1.4);
  });

  it('stops after the current step when asked, with status interrupted', async () => {
    const dir = await tempDir('stop');
    const trainer = await makeTrainer(smallConfig(), dir);
    trainer.hooks.afterStep.tap('test:stopper', ({ globalStep }) => {
      if (globalStep === 5) trainer.stop();
    });
    const summary = await trainer.run();
    expect(summary).to.include({ status: 'interrupted', globalStep: 5 });
    const info = JSON.parse(await readFile(join(summary.runDir, 'run.json'), 'utf8'));
    expect(info.status).to.equal('interrupted');
  });

  it('writes run.json and config.json with secrets redacted', async () => {
    const dir = await tempDir('rundir');
    const plugin: PokePlugin = { name: 'test:noop', apply() {} };
    const trainer = await makeTrainer(smallConfig({ runName: 'r1', train: { epochs: 1 } }), dir, { plugins: [plugin] });
    const summary = await trainer.run();
    expect(summary.runDir).to.equal(join(dir, 'runs', 'r1'));
    const info = JSON.parse(await readFile(join(summary.runDir, 'run.json'), 'utf8'));
    expect(info).to.include({ name: 'r1', status: 'completed', backend: 'cpu', resumes: 0 });
    expect(info.id).to.match(/^[0-9a-f-]{36}$/);
    expect(info.versions).to.have.keys('poke', 'tfjs', 'node');
    const files = await readdir(summary.runDir);
    expect(files.filter((f) => f.includes('.tmp'))).to.deep.equal([]);
    const config = JSON.parse(await readFile(join(summary.runDir, 'config.json'), 'utf8'));
    expect(config.train.epochs).to.equal(1);
    expect(config.model.activation).to.equal('relu');
  });

  it('redacts secret-looking keys anywhere in config.json', async () => {
    const { configForDisk } = await import('@poke/core/internal');
    const disk = configForDisk({
      ...(await makeTrainer(smallConfig(), await tempDir('redact'))).config,
      plugins: [['some-tracker', { apiKey: 'abc123', nested: { password: 'hunter2', token: 't' }, project: 'p' }]],
    } as never);
    const text = JSON.stringify(disk);
    for (const secret of ['abc123', 'hunter2', '"t"']) expect(text).to.not.include(secret);
    expect(text).to.include('"project":"p"');
  });

  it('refuses to reuse an existing run folder unless resuming', async () => {
    const dir = await tempDir('exists');
    await (await makeTrainer(smallConfig({ runName: 'taken', train: { epochs: 1 } }), dir)).run();
    const again = await makeTrainer(smallConfig({ runName: 'taken', train: { epochs: 1 } }), dir);
    const err = await again.run().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as Error).message).to.include('already exists');
  });

  it('says what to do when --resume has no plugin to answer it', async () => {
    const dir = await tempDir('noresume');
    await (await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir)).run();
    const trainer = await makeTrainer(smallConfig({ runName: 'r' }), dir, { resume: 'latest' });
    const err = await trainer.run().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).message).to.include('no plugin could restore the run');
    expect((err as UserError).hint).to.include('checkpoint');
  });
});

describe('run folder lock', () => {
  it('refuses a second trainer on a run folder in use, and takes over a lock whose process is gone', async () => {
    const { writeFile, readFile: read } = await import('node:fs/promises');
    const { existsSync } = await import('node:fs');
    const dir = await tempDir('lock');
    await (await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir)).run();
    const lockPath = join(dir, 'runs', 'r', '.lock');
    expect(existsSync(lockPath), 'released after the run').to.equal(false);

    // A live owner: this very process.
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname(), startedAt: 'then' }));
    const blocked = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 2 } }), dir, { resume: 'latest' });
    const err = await blocked.run().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UserError);
    expect((err as Error).message).to.include(`is in use by process ${process.pid}`);
    expect(JSON.parse(await read(lockPath, 'utf8')).startedAt, 'the live lock is untouched').to.equal('then');

    // A killed owner: a pid that does not exist.
    await writeFile(lockPath, JSON.stringify({ pid: 2 ** 22 + 17, hostname: (await import('node:os')).hostname(), startedAt: 'then' }));
    const store: { saved?: Saved } = {};
    const taker = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir, { resume: 'latest', plugins: [memoryCheckpoint(store)] });
    // No checkpoint plugin state to resume from: the resume fails, but only after the stale lock was taken over.
    const takeover = await taker.run().catch((e: unknown) => e);
    expect((takeover as Error).message).to.include('no plugin could restore the run');
    expect(existsSync(lockPath)).to.equal(false);
  });
});
