import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PluginError } from '@poke/core';
import { createTrainerHooks } from '@poke/core/internal';
import type { PokePlugin, Trainer, MetricsRecord } from '@poke/core';
import { makeTrainer, smallConfig, tempDir } from './helpers.js';

const HOOK_NAMES = ['dataProgress', 'fetchRun', 'setup', 'init', 'resume', 'resumed', 'beforeEpoch', 'afterStep', 'afterEpoch', 'afterValidate', 'log', 'done', 'closed'];

/** Records every hook call with its payload, as a third-party plugin would see them. */
function recorder(events: Array<{ hook: string; payload: any }>): PokePlugin {
  return {
    name: 'test:recorder',
    apply(trainer: Trainer) {
      for (const hook of HOOK_NAMES) {
        if (hook === 'resume' || hook === 'resumed' || hook === 'fetchRun') continue;
        (trainer.hooks as any)[hook].tap('test:recorder', (payload: unknown) => {
          events.push({ hook, payload: structuredClone(payload) });
        });
      }
    },
  };
}

describe('trainer hooks', () => {
  it('are one frozen object with exactly the documented hooks', () => {
    const hooks = createTrainerHooks();
    expect(Object.isFrozen(hooks)).to.equal(true);
    expect(Object.keys(hooks)).to.deep.equal(HOOK_NAMES);
    try {
      (hooks as any).extra = 1;
    } catch {
      // strict mode throws; either way the object must not change
    }
    expect((hooks as any).extra).to.equal(undefined);
  });

  it('fire in the documented order with the documented payloads', async () => {
    const dir = await tempDir('hooks');
    const events: Array<{ hook: string; payload: any }> = [];
    // 540 training samples / 64 = 9 steps per epoch; logEvery 4 → records at steps 4, 8, 9(end).
    const trainer = await makeTrainer(smallConfig({ train: { epochs: 2, logEvery: 4 } }), dir, { plugins: [recorder(events)] });
    const summary = await trainer.run();

    // A record every 4th global step (emitted before that step's afterStep), one at each epoch end.
    const expected = ['setup'];
    for (let epoch = 0; epoch < 2; epoch++) {
      expected.push('beforeEpoch');
      for (let batch = 0; batch < 9; batch++) {
        const globalStep = epoch * 9 + batch + 1;
        if (batch < 8 && globalStep % 4 === 0) expected.push('log');
        expected.push('afterStep');
      }
      expected.push('afterEpoch', 'log', 'afterValidate');
    }
    expected.push('done', 'closed');
    expect(events.map((e) => e.hook)).to.deep.equal(expected);

    const setup = events[0]!.payload;
    expect(setup).to.include({ runName: summary.runName, backend: 'cpu', trainSamples: 540, valSamples: 60, stepsPerEpoch: 9 });
    expect(setup.parameterCount).to.equal(12 * 16 + 16 + 16 * 5 + 5);
    expect(setup.resume).to.equal(undefined);

    const steps = events.filter((e) => e.hook === 'afterStep').map((e) => e.payload);
    expect(steps.map((s) => s.globalStep)).to.deep.equal(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(steps[9]).to.include({ epoch: 1, batch: 0, globalStep: 10, batchSize: 64 });
    expect(steps[8]).to.include({ epoch: 0, batch: 8, batchSize: 540 - 8 * 64 });
    for (const s of steps) {
      expect(s.loss).to.be.a('number').and.satisfy(Number.isFinite);
      expect(s.accuracy).to.be.within(0, 1);
    }

    const logs = events.filter((e) => e.hook === 'log').map((e) => e.payload as MetricsRecord);
    expect(logs.map((r) => [r.step, r.epoch])).to.deep.equal([[4, 0], [8, 0], [9, 0], [12, 1], [16, 1], [18, 1]]);
    expect(Object.keys(logs[0]!.metrics).sort()).to.deep.equal(['accuracy', 'loss', 'lr', 'samples_per_sec']);
    expect(Object.keys(logs[2]!.metrics).sort()).to.deep.equal(
      ['accuracy', 'loss', 'lr', 'samples_per_sec', 'train_accuracy', 'train_loss', 'val_accuracy', 'val_loss'].sort(),
    );
    expect(new Date(logs[0]!.timestamp).toISOString()).to.equal(logs[0]!.timestamp);

    const epochEnd = events.find((e) => e.hook === 'afterEpoch')!.payload;
    expect(epochEnd).to.include({ epoch: 0, globalStep: 9 });
    expect(Object.keys(epochEnd.metrics).sort()).to.deep.equal(['train_accuracy', 'train_loss']);
    const validated = events.find((e) => e.hook === 'afterValidate')!.payload;
    expect(validated.metrics.val_loss).to.equal(logs[2]!.metrics.val_loss);
    expect(validated.metrics.train_loss).to.equal(epochEnd.metrics.train_loss);

    const done = events.at(-1)!.payload;
    expect(done).to.include({ status: 'completed', epochs: 2, globalStep: 18, samplesSeen: 1080 });
    expect(done.finalMetrics.val_accuracy).to.equal(logs[5]!.metrics.val_accuracy);
  });

  it('fire closed after the final run.json, so a plugin copying the run folder copies its outcome', async () => {
    const dir = await tempDir('hooks');
    const trainer = await makeTrainer(smallConfig({ train: { epochs: 1 } }), dir);
    let status: string | undefined;
    trainer.hooks.closed.tapPromise('test', async ({ runDir }) => {
      status = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')).status;
    });
    await trainer.run();
    expect(status).to.equal('completed');
  });

  it('fire fetchRun with --resume, before the run folder is looked up', async () => {
    const dir = await tempDir('hooks');
    const trainer = await makeTrainer(smallConfig({ runName: 'elsewhere', train: { epochs: 1 } }), dir, { resume: 'auto' });
    const seen: unknown[] = [];
    trainer.hooks.fetchRun.tap('test', (request) => void seen.push({ ...request, folderExisted: existsSync(join(request.runsDir, 'elsewhere')) }));
    await trainer.run();
    expect(seen).to.deep.equal([{ runsDir: join(dir, 'runs'), runName: 'elsewhere', resume: 'auto', folderExisted: false }]);
  });

  it('skip afterStep entirely when nothing taps it', async () => {
    const dir = await tempDir('hooks');
    const trainer = await makeTrainer(smallConfig({ train: { epochs: 1 } }), dir);
    let called = 0;
    const original = trainer.hooks.afterStep.promise.bind(trainer.hooks.afterStep);
    trainer.hooks.afterStep.promise = (...args) => {
      called++;
      return original(...args);
    };
    const summary = await trainer.run();
    expect(summary.globalStep).to.equal(9);
    expect(called).to.equal(0);
  });

  it('name the plugin and hook when a tap throws, and still fire done with failed', async () => {
    const dir = await tempDir('hooks');
    let doneStatus: string | undefined;
    const broken: PokePlugin = {
      name: 'test:broken',
      apply(trainer) {
        trainer.hooks.afterStep.tapPromise('test:broken', async ({ globalStep }) => {
          if (globalStep === 3) throw new TypeError('boom at 3');
        });
        trainer.hooks.done.tap('test:observer', (summary) => void (doneStatus = summary.status));
      },
    };
    const trainer = await makeTrainer(smallConfig(), dir, { plugins: [broken] });
    const err = await trainer.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PluginError);
    expect((err as Error).message).to.equal('plugin test:broken failed in afterStep: boom at 3');
    expect((err as PluginError).cause).to.be.instanceOf(TypeError);
    expect(doneStatus).to.equal('failed');
    const info = JSON.parse(await readFile(join(trainer.context!.runDir, 'run.json'), 'utf8'));
    expect(info.status).to.equal('failed');
    expect(info.error).to.include('test:broken');
  });

  it('wrap sync and callback taps too', async () => {
    const hooks = createTrainerHooks();
    hooks.log.tap('test:sync', () => {
      throw new Error('sync boom');
    });
    expect(() => hooks.log.call({ step: 1, epoch: 0, timestamp: '', metrics: {} })).to.throw('plugin test:sync failed in log: sync boom');
    hooks.beforeEpoch.tapAsync('test:cb', (_e, cb) => cb(new Error('cb boom')));
    const err = await hooks.beforeEpoch.promise({ epoch: 0, globalStep: 0, stepsPerEpoch: 1 }).catch((e: Error) => e);
    expect((err as Error).message).to.equal('plugin test:cb failed in beforeEpoch: cb boom');
  });
});
