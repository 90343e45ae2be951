import { expect } from 'chai';
import { readFile, writeFile, appendFile, rm } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Stage, UserError, resolveConfig, silentLogger, Trainer } from '@poke/core';
import { captureOptimizer, captureWeights, restoreOptimizer, restoreWeights } from '@poke/core/internal';
import type { MetricsRecord, PokePlugin, TrainingStateSnapshot } from '@poke/core';
import type { OptimizerState, SavedTensor } from '@poke/core/internal';
import csv, { CsvFile, csvOptionsSchema } from '@poke/plugin-csv';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';
import { openFiles } from '../../../test/open-files.js';

// smallConfig: 540 training samples, batches of 64 → 9 steps per epoch; a record every 3 steps.
const STEPS_PER_EPOCH = 9;

function collect(trainer: Trainer): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  trainer.hooks.log.tap('test:collect', (r) => void records.push(r));
  return records;
}

async function readCsv(path: string): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const text = await readFile(path, 'utf8');
  const [header, ...cells] = parse(text) as string[][];
  const rows = cells.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i]!])));
  return { header: header!, rows };
}

/** Every value of every record, as the file must hold it: each number parses back to the identical double. */
function expectRowsEqual(header: string[], rows: Record<string, string>[], records: MetricsRecord[]): void {
  expect(rows).to.have.length(records.length);
  rows.forEach((row, i) => {
    const record = records[i]!;
    expect(Object.keys(row)).to.deep.equal(header);
    expect(Number(row.step)).to.equal(record.step);
    expect(Number(row.epoch)).to.equal(record.epoch);
    expect(row.timestamp).to.equal(record.timestamp);
    for (const key of Object.keys(record.metrics)) expect(header, `column ${key}`).to.include(key);
    for (const key of header.slice(3)) {
      const value = record.metrics[key];
      if (value === undefined) expect(row[key], `${key} at step ${record.step}`).to.equal('');
      else expect(Object.is(Number(row[key]), value), `${key} at step ${record.step}: ${row[key]} vs ${value}`).to.equal(true);
    }
  });
}

function expectStepsOnceInOrder(rows: Record<string, string>[]): void {
  const steps = rows.map((r) => Number(r.step));
  steps.slice(1).forEach((step, i) => expect(step, `row ${i + 1}`).to.be.greaterThan(steps[i]!));
}

/** Timing is the only thing allowed to differ between two runs. */
function comparable(rows: Record<string, string>[]): Record<string, string>[] {
  return rows.map(({ timestamp: _t, samples_per_sec: _s, ...rest }) => rest);
}

/** Descriptors this process holds on `path` (Linux); -1 where /proc is missing. */
function descriptorsOn(path: string): number {
  const target = realpathSync(path);
  return openFiles()?.filter((open) => open === target).length ?? -1;
}

interface Saved {
  state: TrainingStateSnapshot;
  weights: SavedTensor[];
  optimizer: OptimizerState;
}

/**
 * An in-memory checkpoint, as in the core's trainer tests: saves after step
 * `saveAt`, stops after step `stopAt`, and hands the saved state back on resume.
 */
function memoryCheckpoint(store: { saved?: Saved }, at: { saveAt?: number; stopAt?: number } = {}): PokePlugin {
  return {
    name: 'test:memory-checkpoint',
    apply(trainer) {
      trainer.hooks.afterStep.tap('test:memory-checkpoint', ({ globalStep }) => {
        if (globalStep === at.saveAt) {
          store.saved = { state: trainer.snapshot(), weights: captureWeights(trainer.model), optimizer: captureOptimizer(trainer.optimizer) };
        }
        if (globalStep === at.stopAt) trainer.stop('test');
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

function throwsAt(step: number): PokePlugin {
  return {
    name: 'test:broken',
    apply(trainer) {
      trainer.hooks.afterStep.tap('test:broken', ({ globalStep }) => {
        if (globalStep === step) throw new Error('boom');
      });
    },
  };
}

describe('plugin-csv', () => {
  describe('a full run', () => {
    it('writes every record with every value exactly, steps once and increasing', async () => {
      const dir = await tempDir('csv');
      const plugin = csv();
      const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 3 } }), dir, { plugins: [plugin] });
      const records = collect(trainer);
      await trainer.run();
      const { header, rows } = await readCsv(join(dir, 'runs', 'r', 'metrics.csv'));
      expect(header).to.deep.equal(['step', 'epoch', 'timestamp', 'loss', 'accuracy', 'samples_per_sec', 'lr', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy']);
      expect(records.length).to.be.greaterThan(8);
      expectRowsEqual(header, rows, records);
      expectStepsOnceInOrder(rows);
      // The training rows before the first epoch record got empty cells when the header widened.
      expect(rows[0]!.val_loss).to.equal('');
      expect(rows[0]!.train_loss).to.equal('');
    });

    it('rewrites the whole file once per widening and never per row', async () => {
      const dir = await tempDir('csv');
      const plugin = csv();
      const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 3 } }), dir, { plugins: [plugin] });
      const records = collect(trainer);
      await trainer.run();
      const [file] = plugin.files;
      // One widening: the first epoch record brought train_* and val_*.
      expect(file!.stats).to.deep.include({ rewrites: 1, reads: 1 });
      expect(file!.stats.fsyncs).to.equal(records.length);
      expect(file!.isOpen).to.equal(false);
    });
  });

  describe('CsvFile', () => {
    const record = (step: number, metrics: Record<string, number>): MetricsRecord => ({ step, epoch: 0, timestamp: `t${step}`, metrics });

    it('widens the header exactly when a new key arrives; earlier rows get empty cells; keys may come in any order', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      const file = new CsvFile(path);
      file.open();
      file.write(record(1, { loss: 1, lr: 0.5 }));
      file.write(record(2, { lr: 0.5, loss: 2 }));
      expect(file.stats.rewrites).to.equal(0);
      file.write(record(3, { val_loss: 3, loss: 3, lr: 0.5 }));
      expect(file.stats.rewrites).to.equal(1);
      file.write(record(4, { loss: 4 }));
      file.write(record(5, { b: 5, a: 6, lr: 0.25 }));
      expect(file.stats.rewrites).to.equal(2);
      // Many rows with known keys: no rewrite, no read of the file.
      for (let step = 6; step < 200; step++) file.write(record(step, { a: step, loss: step / 3 }));
      expect(file.stats).to.deep.include({ rewrites: 2, reads: 2 });
      file.close();
      const lines = (await readFile(path, 'utf8')).split('\n');
      expect(lines.slice(0, 6)).to.deep.equal([
        'step,epoch,timestamp,loss,lr,val_loss,b,a',
        '1,0,t1,1,0.5,,,',
        '2,0,t2,2,0.5,,,',
        '3,0,t3,3,0.5,3,,',
        '4,0,t4,4,,,,',
        '5,0,t5,,0.25,,5,6',
      ]);
      expect(lines).to.have.length(200 + 1);
    });

    it('quotes per RFC 4180 so hostile names and values round-trip through a standard parser', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      const file = new CsvFile(path);
      file.open();
      const hostile = 'weird, "quoted"\nname';
      const crlf = 'two\r\nlines;=1+1';
      const records: MetricsRecord[] = [
        { step: 1, epoch: 0, timestamp: 'a,b', metrics: { loss: 0.1 + 0.2 } },
        { step: 2, epoch: 0, timestamp: 't"2', metrics: { loss: 5e-324, [hostile]: -0 } },
        { step: 3, epoch: 1, timestamp: ' t3 ', metrics: { [crlf]: 123456789.12345679, [hostile]: Number.MAX_VALUE, loss: 1 / 3 } },
        { step: 4, epoch: 1, timestamp: '', metrics: { loss: -1e-300, [crlf]: Infinity } },
      ];
      for (const r of records) file.write(r);
      file.close();
      const text = await readFile(path, 'utf8');
      expect(text.split('\n')[0]).to.equal('step,epoch,timestamp,loss,"weird, ""quoted""');
      const { header, rows } = await readCsv(path);
      expect(header).to.deep.equal(['step', 'epoch', 'timestamp', 'loss', hostile, crlf]);
      expectRowsEqual(header, rows, records);
      expect(rows[0]!.loss).to.equal('0.30000000000000004');
      expect(rows[1]![hostile]).to.equal('-0');
    });

    it('opens an existing file for append and never truncates it', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      await writeFile(path, 'step,epoch,timestamp,loss\n1,0,t1,0.5\n');
      const file = new CsvFile(path);
      file.open();
      expect(file.header).to.deep.equal(['step', 'epoch', 'timestamp', 'loss']);
      file.write(record(2, { loss: 0.25 }));
      file.close();
      expect(await readFile(path, 'utf8')).to.equal('step,epoch,timestamp,loss\n1,0,t1,0.5\n2,0,t2,0.25\n');
      expect(file.stats.rewrites).to.equal(0);
    });

    it('drops a last row that a crash cut short, even inside a quoted field', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      const whole = 'step,epoch,timestamp,"a\nb"\n1,0,t1,0.5\n';
      for (const tail of ['2,0,t', '2,0,"t\n', '']) {
        await writeFile(path, whole + tail);
        const file = new CsvFile(path);
        file.open();
        file.close();
        expect(await readFile(path, 'utf8'), JSON.stringify(tail)).to.equal(whole);
      }
    });

    it('removes rows after a step in one rewrite, and leaves the file alone when there are none', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      const file = new CsvFile(path);
      file.open();
      expect(file.truncateAfter(5)).to.equal(0);
      for (const step of [3, 6, 9]) file.write(record(step, { loss: step }));
      const before = await readFile(path, 'utf8');
      expect(file.truncateAfter(9)).to.equal(0);
      expect(file.stats.rewrites).to.equal(0);
      expect(await readFile(path, 'utf8')).to.equal(before);
      expect(file.truncateAfter(6)).to.equal(1);
      expect(file.stats.rewrites).to.equal(1);
      file.write(record(9, { loss: 10 }));
      file.close();
      expect(await readFile(path, 'utf8')).to.equal('step,epoch,timestamp,loss\n3,0,t3,3\n6,0,t6,6\n9,0,t9,10\n');
    });

    it('fsyncs every flushEvery rows and at close', async () => {
      const dir = await tempDir('csv');
      for (const [flushEvery, before, after] of [[1, 7, 7], [3, 2, 3], [10, 0, 1]] as const) {
        const file = new CsvFile(join(dir, `m${flushEvery}.csv`), flushEvery);
        file.open();
        for (let step = 1; step <= 7; step++) file.write(record(step, { loss: step }));
        expect(file.stats.fsyncs, `flushEvery ${flushEvery}`).to.equal(before);
        file.close();
        expect(file.stats.fsyncs, `flushEvery ${flushEvery} after close`).to.equal(after);
      }
    });

    it('refuses a file that is not a metrics file', async () => {
      const dir = await tempDir('csv');
      const path = join(dir, 'm.csv');
      await writeFile(path, 'name,value\nx,1\n');
      expect(() => new CsvFile(path).open()).to.throw(UserError, 'is not a metrics file');
      expect(await readFile(path, 'utf8')).to.equal('name,value\nx,1\n');
    });
  });

  describe('resume', () => {
    const config = smallConfig({ train: { epochs: 3 } });

    async function straightRows(dir: string): Promise<Record<string, string>[]> {
      const straight = await makeTrainer({ ...config, runName: 'straight' }, dir, { plugins: [csv()] });
      await straight.run();
      return (await readCsv(join(dir, 'runs', 'straight', 'metrics.csv'))).rows;
    }

    it('after a crash and a resume every step appears exactly once, matching an uninterrupted run', async () => {
      const dir = await tempDir('csv');
      const expected = await straightRows(dir);
      const store: { saved?: Saved } = {};
      const first = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [csv(), memoryCheckpoint(store, { saveAt: 13, stopAt: 13 })] });
      await first.run();
      // What a crash after the checkpoint leaves: rows past it, and a row cut short.
      const path = join(dir, 'runs', 'cut', 'metrics.csv');
      await appendFile(path, '15,1,2026-01-01T00:00:00.000Z,9,9,9,9,9,9,9,9\n16,1,2026-01-01');
      const plugin = csv();
      const second = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [plugin, memoryCheckpoint(store)], resume: 'latest' });
      await second.run();
      const { rows } = await readCsv(path);
      expectStepsOnceInOrder(rows);
      expect(comparable(rows)).to.deep.equal(comparable(expected));
      // One rewrite removed the rows after the checkpoint; the header was already wide.
      expect(plugin.files[0]!.stats.rewrites).to.equal(1);
    });

    it('drops rows after lastLoggedStep, not after the checkpoint step: a checkpoint at an epoch end', async () => {
      const dir = await tempDir('csv');
      const expected = await straightRows(dir);
      const store: { saved?: Saved } = {};
      // Saved after the last step of epoch 1, whose record (with the epoch metrics) comes after the save;
      // the run goes on writing rows, then dies without another checkpoint.
      const first = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [csv(), memoryCheckpoint(store, { saveAt: STEPS_PER_EPOCH, stopAt: 14 })] });
      await first.run();
      const path = join(dir, 'runs', 'cut', 'metrics.csv');
      const before = (await readCsv(path)).rows.map((r) => Number(r.step));
      expect(before).to.include.members([STEPS_PER_EPOCH, 12]);
      expect(store.saved!.state.lastLoggedStep).to.be.lessThan(store.saved!.state.globalStep);

      const second = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [csv(), memoryCheckpoint(store)], resume: 'latest' });
      await second.run();
      const { rows } = await readCsv(path);
      expectStepsOnceInOrder(rows);
      expect(comparable(rows)).to.deep.equal(comparable(expected));
    });

    it('starts the file when the resumed run had none', async () => {
      const dir = await tempDir('csv');
      const expected = await straightRows(dir);
      const store: { saved?: Saved } = {};
      await (await makeTrainer({ ...config, runName: 'late' }, dir, { plugins: [memoryCheckpoint(store, { saveAt: 13, stopAt: 13 })] })).run();
      const second = await makeTrainer({ ...config, runName: 'late' }, dir, { plugins: [csv(), memoryCheckpoint(store)], resume: 'latest' });
      await second.run();
      const { rows } = await readCsv(join(dir, 'runs', 'late', 'metrics.csv'));
      const after = expected.filter((r) => Number(r.step) > store.saved!.state.lastLoggedStep);
      expect(comparable(rows)).to.deep.equal(comparable(after));
    });
  });

  it('splitFiles writes train metrics and val metrics to their own files', async () => {
    const dir = await tempDir('csv');
    const plugin = csv({ splitFiles: true, path: 'logs/metrics.csv' });
    const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 2 } }), dir, { plugins: [plugin] });
    const records = collect(trainer);
    await trainer.run();
    const runDir = join(dir, 'runs', 'r');
    expect(existsSync(join(runDir, 'logs', 'metrics.csv'))).to.equal(false);
    const train = await readCsv(join(runDir, 'logs', 'metrics.train.csv'));
    const val = await readCsv(join(runDir, 'logs', 'metrics.val.csv'));
    expect(train.header).to.deep.equal(['step', 'epoch', 'timestamp', 'loss', 'accuracy', 'samples_per_sec', 'lr', 'train_loss', 'train_accuracy']);
    expect(val.header).to.deep.equal(['step', 'epoch', 'timestamp', 'val_loss', 'val_accuracy']);
    const part = (prefix: (key: string) => boolean) =>
      records
        .map((r) => ({ ...r, metrics: Object.fromEntries(Object.entries(r.metrics).filter(([k]) => prefix(k))) }))
        .filter((r) => Object.keys(r.metrics).length > 0);
    expectRowsEqual(train.header, train.rows, part((k) => !k.startsWith('val_')));
    expectRowsEqual(val.header, val.rows, part((k) => k.startsWith('val_')));
    expect(val.rows.map((r) => Number(r.step))).to.deep.equal([STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]);
    expect(plugin.files.every((f) => !f.isOpen)).to.equal(true);
  });

  describe('config.json', () => {
    it('is written, secrets redacted, when the run folder lacks it', async () => {
      const dir = await tempDir('csv');
      const { config } = await resolveConfig({ user: smallConfig({ runName: 'r', train: { epochs: 1 } }), file: undefined, baseDir: dir });
      // A plugin entry with a secret in its options, as config.json records it.
      const withSecret = { ...config, plugins: [['acme-tracker', { apiKey: 'sekrit-123' }] as const] };
      const trainer = new Trainer(withSecret, { logger: silentLogger, baseDir: dir, plugins: [csv()] });
      // Remove the core's config.json before the plugin's setup, as a host that does not write it would.
      trainer.hooks.setup.tapPromise({ name: 'test:rm', stage: Stage.FIRST }, ({ runDir }) => rm(join(runDir, 'config.json')));
      await trainer.run();
      const text = await readFile(join(dir, 'runs', 'r', 'config.json'), 'utf8');
      expect(text).to.not.include('sekrit');
      const written = JSON.parse(text);
      expect(written.train.epochs).to.equal(1);
      expect(written.plugins).to.deep.equal([['acme-tracker', { apiKey: '[redacted]' }]]);
    });

    it('is left alone when present', async () => {
      const dir = await tempDir('csv');
      const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir, { plugins: [csv()] });
      trainer.hooks.setup.tapPromise({ name: 'test:mark', stage: Stage.FIRST }, ({ runDir }) => writeFile(join(runDir, 'config.json'), '{"marker":true}\n'));
      await trainer.run();
      expect(await readFile(join(dir, 'runs', 'r', 'config.json'), 'utf8')).to.equal('{"marker":true}\n');
    });
  });

  describe('closing', () => {
    it('releases the file when the run fails', async () => {
      const dir = await tempDir('csv');
      const plugin = csv();
      const trainer = await makeTrainer(smallConfig({ runName: 'r' }), dir, { plugins: [plugin, throwsAt(4)] });
      const path = join(dir, 'runs', 'r', 'metrics.csv');
      let heldDuringRun = 0;
      trainer.hooks.afterStep.tap('test:probe', () => void (heldDuringRun = descriptorsOn(path)));
      const error = await trainer.run().then(() => undefined, (err: unknown) => err);
      expect(String(error)).to.include('boom');
      expect(trainer.summary!.status).to.equal('failed');
      expect(plugin.files[0]!.isOpen).to.equal(false);
      if (heldDuringRun !== -1) {
        expect(heldDuringRun).to.equal(1);
        expect(descriptorsOn(path)).to.equal(0);
      }
      expect((await readCsv(path)).rows.map((r) => Number(r.step))).to.deep.equal([3]);
    });

    it('releases the files opened before one that fails to open', async () => {
      const dir = await tempDir('csv');
      const plugin = csv({ splitFiles: true });
      const trainer = await makeTrainer(smallConfig({ runName: 'r' }), dir, { plugins: [plugin] });
      trainer.hooks.setup.tapPromise({ name: 'test:foreign', stage: Stage.FIRST }, ({ runDir }) => writeFile(join(runDir, 'metrics.val.csv'), 'name,value\n'));
      const error = await trainer.run().then(() => undefined, (err: unknown) => err);
      expect(String(error)).to.include('plugin poke:csv failed in setup').and.include('is not a metrics file');
      expect(plugin.files.map((f) => f.isOpen)).to.deep.equal([false, false]);
    });

    it('releases the file when the run is interrupted', async () => {
      const dir = await tempDir('csv');
      const plugin = csv();
      const trainer = await makeTrainer(smallConfig({ runName: 'r' }), dir, { plugins: [plugin, memoryCheckpoint({}, { stopAt: 7 })] });
      const summary = await trainer.run();
      expect(summary.status).to.equal('interrupted');
      expect(plugin.files[0]!.isOpen).to.equal(false);
      const held = descriptorsOn(join(dir, 'runs', 'r', 'metrics.csv'));
      if (held !== -1) expect(held).to.equal(0);
    });
  });

  describe('options', () => {
    it('fills defaults and keeps the schema strict', () => {
      expect(csvOptionsSchema.additionalProperties).to.equal(false);
      expect(() => csv()).to.not.throw();
      expect(() => csv({ path: 'logs/run_1/m.csv', flushEvery: 10, splitFiles: true })).to.not.throw();
    });

    it('name the plugin and the option path', () => {
      expect(() => csv({ flushEvery: 0 })).to.throw(UserError, 'plugin poke:csv: options.flushEvery must be >= 1');
      expect(() => csv({ flushEvery: 1.5 })).to.throw(UserError, 'plugin poke:csv: options.flushEvery must be integer');
      expect(() => csv({ splitFiles: 'yes' } as never)).to.throw(UserError, 'plugin poke:csv: options.splitFiles must be boolean');
      expect(() => csv({ split: true } as never)).to.throw(UserError, 'plugin poke:csv: unknown key "split" in options (did you mean "splitFiles"?)');
    });

    it('refuse paths that leave the run folder or clobber the core files', () => {
      for (const path of ['../x.csv', '/etc/x.csv', 'a/../../x.csv', '..', 'a/./b.csv', 'a//b.csv', 'logs/', '.hidden.csv', 'a\\..\\x.csv', '']) {
        expect(() => csv({ path }), JSON.stringify(path)).to.throw(UserError, 'plugin poke:csv: options.path must match pattern');
      }
      for (const path of ['run.json', 'config.json']) {
        expect(() => csv({ path }), path).to.throw(UserError, `plugin poke:csv: options.path must not be ${path}`);
      }
    });
  });
});
