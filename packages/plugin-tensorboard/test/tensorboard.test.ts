/**
 * Against the real TensorBoard (the pinned venv of scripts/install-tensorboard.sh):
 * poke's event files read with TensorBoard's own EventAccumulator, before and after a
 * SIGKILL and --resume, and served by `tensorboard --logdir`.
 */
import { expect } from 'chai';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startPoke, poke } from '../../cli/test/helpers.js';
import { tempDir } from '../../core/test/helpers.js';
import { EventFile, eventFiles, scanRecords, frameRecord, scalarsEvent } from '@poke/plugin-tensorboard';
import { EventType } from '../src/proto.js';
import { requireTensorboard } from './install.js';
import { readWithTensorboard, csvByStep, scalarsByStep, asFloat32, configFor, projectWith } from './helpers.js';

async function train(dir: string, args: string[]): Promise<void> {
  const result = await poke(['train', ...args], dir);
  if (result.code !== 0) throw new Error(`poke train exited ${result.code}:\n${result.stderr}`);
}

const allSteps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('plugin-tensorboard: read by TensorBoard', function () {
  this.timeout(300_000);
  let bin: string;

  before(async function () {
    bin = await requireTensorboard(this);
  });

  it('every metric of every record once, at its step, float32 of the metrics.csv value; config as text; HParams start and end', async () => {
    const dir = await projectWith(configFor({ histogramsEvery: 1 }));
    await train(dir, ['--run-name', 'a']);
    const run = join(dir, 'runs', 'a');
    const read = await readWithTensorboard(bin, join(run, 'tensorboard'));
    expect(read.warnings).to.deep.equal([]);
    const csv = await csvByStep(join(run, 'metrics.csv'));
    expect([...csv.keys()]).to.deep.equal(allSteps(csv.size));
    const shown = scalarsByStep(read);
    expect([...shown.keys()].sort((a, b) => a - b)).to.deep.equal([...csv.keys()]);
    // simple_value is a float32: what TensorBoard holds is exactly Math.fround of the double.
    expect(shown).to.deep.equal(asFloat32(csv));

    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8'));
    const [[textStep, text]] = read.text.config!;
    expect(textStep).to.equal(0);
    expect(JSON.parse(text.slice(text.indexOf('\n\n') + 2).replace(/^ {4}/gm, ''))).to.deep.equal(config);

    const start = read.hparams['_hparams_/session_start_info'].session_start_info;
    expect(read.hparams['_hparams_/session_start_info#count']).to.equal(1);
    expect(start.hparams['train.learningRate']).to.equal(0.001);
    expect(start.hparams['train.epochs']).to.equal(3);
    expect(start.hparams['model.hiddenSizes']).to.equal('[16]');
    expect(start.hparams).to.not.have.any.keys('runName', 'runsDir', 'configFile');
    expect(read.hparams['_hparams_/session_end_info'].session_end_info.status).to.equal('STATUS_SUCCESS');

    // histogramsEvery 1: each weight at each epoch's end, every value counted.
    const kernels = Object.keys(read.histograms).filter((t) => t.startsWith('weights/'));
    expect(kernels.length).to.be.greaterThan(0);
    for (const tag of kernels) {
      const points = read.histograms[tag]!;
      expect(points.map(([step]) => step)).to.deep.equal([...csv].filter(([, row]) => 'val_loss' in row).map(([step]) => step));
    }
  });

  it('scalarType double: values bit-identical to metrics.csv', async () => {
    const dir = await projectWith(configFor({ scalarType: 'double' }));
    await train(dir, ['--run-name', 'd']);
    const run = join(dir, 'runs', 'd');
    const read = await readWithTensorboard(bin, join(run, 'tensorboard'));
    expect(read.warnings).to.deep.equal([]);
    expect(scalarsByStep(read)).to.deep.equal(await csvByStep(join(run, 'metrics.csv')));
  });

  it('after SIGKILL (and a record cut short) and --resume, every step once, equal to metrics.csv', async () => {
    const dir = await projectWith(configFor());
    // Killed once a mid-epoch checkpoint of the second epoch is on disk, whatever the machine's speed.
    const first = startPoke(['train', '--run-name', 'k'], dir);
    await first.waitFor(/checkpoint: saved \S*step00000030/);
    first.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.signal).to.equal('SIGKILL');
    const tbDir = join(dir, 'runs', 'k', 'tensorboard');
    const [firstFile] = eventFiles(tbDir);
    // A crash in the middle of a write: half a record at the end of the file.
    const half = frameRecord(Buffer.from(EventType.encode(scalarsEvent(999, 0, { loss: 1 }, 'float', new Set())).finish()));
    await appendFile(join(tbDir, firstFile!), half.subarray(0, 10));

    const resumed = await poke(['train', '--run-name', 'k', '--resume'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.match(/tensorboard: removed \d+ events after step \d+ and 10 bytes of a record cut short/);
    const files = eventFiles(tbDir);
    expect(files).to.have.length(2);
    expect(files[0]).to.equal(firstFile);
    // The new file starts with the restart marker that makes TensorBoard's reader purge later points.
    const events = scanRecords(await readFile(join(tbDir, files[1]!))).records.map((r) => EventType.toObject(EventType.decode(r), { longs: Number }));
    expect(events[0]!.file_version).to.equal('brain.Event:2');
    expect(events[1]!.session_log).to.deep.equal({ status: 1 });

    const read = await readWithTensorboard(bin, tbDir);
    expect(read.warnings).to.deep.equal([]);
    const csv = await csvByStep(join(dir, 'runs', 'k', 'metrics.csv'));
    expect([...csv.keys()]).to.deep.equal(allSteps(66));
    expect(scalarsByStep(read)).to.deep.equal(asFloat32(csv));
    expect(read.hparams['_hparams_/session_start_info#count']).to.equal(1);
    expect(read.hparams['_hparams_/session_end_info'].session_end_info.status).to.equal('STATUS_SUCCESS');
    expect(read.text.config!.map(([step]) => step)).to.deep.equal([0, events[1]!.step]);
  });

  it('a 100,000-step event file loads in EventAccumulator with no warning', async () => {
    const dir = await tempDir('tensorboard-100k');
    const file = new EventFile(dir);
    const t0 = Date.now() / 1000;
    for (let step = 1; step <= 100_000; step++) {
      file.append(scalarsEvent(step, t0 + step / 1000, { loss: 1 / step, accuracy: step / 100_000, samples_per_sec: 5000 + step, lr: 0.001 }, 'float', file.described));
      if (step % 1000 === 0) file.flush();
    }
    file.close();
    const read = await readWithTensorboard(bin, dir);
    expect(read.warnings).to.deep.equal([]);
    for (const tag of ['loss', 'accuracy', 'samples_per_sec', 'lr']) {
      const steps = read.scalars[tag]!.map(([s]) => s);
      expect(steps.length, tag).to.equal(100_000);
      expect(steps[0]).to.equal(1);
      expect(steps.at(-1)).to.equal(100_000);
    }
    expect(read.scalars.loss![41_999]![1]).to.equal(Math.fround(1 / 42_000));
    console.log(`      EventAccumulator loaded 100,000 steps × 4 scalars in ${read.seconds.toFixed(2)} s`);
  });
});
