import { expect } from 'chai';
import { readFile, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UserError, captureOptimizer, captureWeights, restoreOptimizer, restoreWeights } from '@poke/core';
import type { MetricsRecord, PokePlugin, Trainer, TrainingStateSnapshot } from '@poke/core';
import csv, { CsvFile } from '@poke/plugin-csv';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';

function collect(trainer: Trainer): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  trainer.hooks.log.tap('test:collect', (r) => void records.push(r));
  return records;
}

async function readCsv(path: string): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const rows = parse(await readFile(path, 'utf8'), { columns: true }) as Record<string, string>[];
  const header = (parse(await readFile(path, 'utf8'), { to: 1 }) as string[][])[0]!;
  return { header, rows };
}

/** Every value of every record, as the file must hold it: numbers parse back to the identical double. */
function expectRowsEqual(rows: Record<string, string>[], records: MetricsRecord[], ignore: string[] = []) {
  expect(rows.map((r) => Number(r.step))).to.deep.equal(records.map((r) => r.step));
  rows.forEach((row, i) => {
    const record = records[i]!;
    expect(Number(row.epoch)).to.equal(record.epoch);
    if (!ignore.includes('timestamp')) expect(row.timestamp).to.equal(record.timestamp);
    for (const [key, cell] of Object.entries(row)) {
      if (['step', 'epoch', 'timestamp', ...ignore].includes(key)) continue;
      const value = record.metrics[key];
      if (value === undefined) expect(cell, `${key} at step ${record.step}`).to.equal('');
      else expect(Number(cell), `${key} at step ${record.step}`).to.equal(value);
    }
  });
}

/** Saves the trainer's state at `atStep` and stops; hands it back on resume (what the checkpoint plugin does). */
function memoryCheckpoint(store: { state?: TrainingStateSnapshot; weights?: any; optimizer?: any }, atStep?: number): PokePlugin {
  return {
    name: 'test:memory-checkpoint',
    apply(trainer) {
      trainer.hooks.afterStep.tap('test:memory-checkpoint', ({ globalStep }) => {
        if (globalStep !== atStep) return;
        Object.assign(store, { state: trainer.snapshot(), weights: captureWeights(trainer.model), optimizer: captureOptimizer(trainer.optimizer) });
        trainer.stop('test');
      });
      trainer.hooks.resume.tapPromise('test:memory-checkpoint', async () => {
        restoreWeights(trainer.model, store.weights);
        await restoreOptimizer(trainer.optimizer, store.optimizer);
        return store.state;
      });
    },
  };
}

describe('plugin-csv', () => {
  it('writes every record with every value exactly, widening the header once when validation metrics arrive', async () => {
    const dir = await tempDir('csv');
    const plugin = csv();
    const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 3 } }), dir, { plugins: [plugin] });
    const records = collect(trainer);
    await trainer.run();
    const { header, rows } = await readCsv(join(dir, 'runs', 'r', 'metrics.csv'));
    expect(header.slice(0, 3)).to.deep.equal(['step', 'epoch', 'timestamp']);
    expect(header.slice(3)).to.deep.equal(['loss', 'accuracy', 'samples_per_sec', 'lr', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy']);
    expectRowsEqual(rows, records);
    expect(rows[0]!.val_loss).to.equal('');
    // One rewrite, when the first epoch record brought the train_*/val_* columns; none per row.
    expect(rows.length).to.be.greaterThan(5);
    expect(plugin.files[0]!.rewrites).to.equal(1);
    expect(plugin.files[0]!.isOpen).to.equal(false);
  });

  it('quotes per RFC 4180 so hostile names and values round-trip through a standard parser', async () => {
    const dir = await tempDir('csv');
    const file = new CsvFile(join(dir, 'm.csv'), 1);
    file.open();
    const hostile = 'weird, "quoted"\nname';
    const records: MetricsRecord[] = [
      { step: 1, epoch: 0, timestamp: 'a,b', metrics: { loss: 0.1 + 0.2 } },
      { step: 2, epoch: 0, timestamp: 't"2', metrics: { loss: 1e-300, [hostile]: -0 } },
      { step: 3, epoch: 1, timestamp: 't3', metrics: { [hostile]: 123456789.12345679, loss: Number.MAX_VALUE } },
    ];
    for (const r of records) file.write(r);
    file.close();
    const { header, rows } = await readCsv(join(dir, 'm.csv'));
    expect(header).to.deep.equal(['step', 'epoch', 'timestamp', 'loss', hostile]);
    expectRowsEqual(rows, records);
    expect(rows[0]!.timestamp).to.equal('a,b');
    expect(Number(rows[0]!.loss)).to.equal(0.30000000000000004);
  });

  it('after a crash and a resume every step appears exactly once, matching an uninterrupted run', async () => {
    const dir = await tempDir('csv');
    const config = smallConfig({ train: { epochs: 3 } });
    const straight = await makeTrainer({ ...config, runName: 'straight' }, dir, { plugins: [csv()] });
    await straight.run();

    const store = {};
    const first = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [csv(), memoryCheckpoint(store, 13)] });
    await first.run();
    // What a crash after the checkpoint leaves: rows past the checkpoint, and a row cut short.
    const path = join(dir, 'runs', 'cut', 'metrics.csv');
    await appendFile(path, '15,1,2026-01-01T00:00:00.000Z,9,9,9,9,9,9,9,9\n16,1,2026-01-01');
    const second = await makeTrainer({ ...config, runName: 'cut' }, dir, { plugins: [csv(), memoryCheckpoint(store)], resume: 'latest' });
    await second.run();

    const a = await readCsv(join(dir, 'runs', 'straight', 'metrics.csv'));
    const b = await readCsv(path);
    const steps = b.rows.map((r) => Number(r.step));
    expect(new Set(steps).size).to.equal(steps.length);
    expect(steps).to.deep.equal([...steps].sort((x, y) => x - y));
    const strip = (rows: Record<string, string>[]) => rows.map(({ timestamp: _t, samples_per_sec: _s, ...rest }) => rest);
    expect(strip(b.rows)).to.deep.equal(strip(a.rows));
  });

  it('opens an existing file for append and never truncates it', async () => {
    const dir = await tempDir('csv');
    const path = join(dir, 'm.csv');
    await writeFile(path, 'step,epoch,timestamp,loss\n1,0,t1,0.5\n');
    const file = new CsvFile(path, 1);
    file.open();
    file.write({ step: 2, epoch: 0, timestamp: 't2', metrics: { loss: 0.25 } });
    file.close();
    expect(await readFile(path, 'utf8')).to.equal('step,epoch,timestamp,loss\n1,0,t1,0.5\n2,0,t2,0.25\n');
    expect(file.rewrites).to.equal(0);
  });

  it('splitFiles writes one file per split', async () => {
    const dir = await tempDir('csv');
    const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 2 } }), dir, { plugins: [csv({ splitFiles: true })] });
    const records = collect(trainer);
    await trainer.run();
    const train = await readCsv(join(dir, 'runs', 'r', 'metrics.train.csv'));
    const val = await readCsv(join(dir, 'runs', 'r', 'metrics.val.csv'));
    expect(train.header.some((h) => h.startsWith('val_'))).to.equal(false);
    expect(val.header.slice(3)).to.deep.equal(['val_loss', 'val_accuracy']);
    expect(train.rows).to.have.length(records.length);
    expect(val.rows.map((r) => Number(r.step))).to.deep.equal(records.filter((r) => 'val_loss' in r.metrics).map((r) => r.step));
  });

  it('writes config.json when the run folder lacks it, and leaves the core one alone', async () => {
    const dir = await tempDir('csv');
    const trainer = await makeTrainer(smallConfig({ runName: 'r', train: { epochs: 1 } }), dir, { plugins: [csv()] });
    // Remove the core's config.json before setup runs, as a host without it would have.
    trainer.hooks.setup.tapPromise({ name: 'test:rm', stage: -1 }, async ({ runDir }) => {
      const { rm } = await import('node:fs/promises');
      await rm(join(runDir, 'config.json'));
    });
    await trainer.run();
    const config = JSON.parse(await readFile(join(dir, 'runs', 'r', 'config.json'), 'utf8'));
    expect(config.train.epochs).to.equal(1);
  });

  it('closes the file when the run fails', async () => {
    const dir = await tempDir('csv');
    const plugin = csv();
    const broken: PokePlugin = {
      name: 'test:broken',
      apply(t) {
        t.hooks.afterStep.tap('test:broken', ({ globalStep }) => {
          if (globalStep === 4) throw new Error('boom');
        });
      },
    };
    const trainer = await makeTrainer(smallConfig({ runName: 'r' }), dir, { plugins: [plugin, broken] });
    await trainer.run().catch(() => undefined);
    expect(plugin.files[0]!.isOpen).to.equal(false);
    expect(existsSync(join(dir, 'runs', 'r', 'metrics.csv'))).to.equal(true);
  });

  it('rejects options naming the plugin and the path, and paths that leave the run folder', () => {
    expect(() => csv({ flushEvery: 0 })).to.throw(UserError, 'plugin poke:csv: options.flushEvery must be >= 1');
    for (const path of ['../x.csv', '/etc/x.csv', 'a/../../x.csv']) {
      expect(() => csv({ path }), path).to.throw(UserError, 'plugin poke:csv: options.path must match pattern');
    }
    expect(() => csv({ split: true } as never)).to.throw(UserError, 'unknown key "split" in options (did you mean "splitFiles"?)');
  });
});
