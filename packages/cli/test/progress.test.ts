import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { generateSynthetic, resolveConfig, silentLogger, Trainer } from '@poke/core';
import type { DataSource, PokePlugin } from '@poke/core';
import { progressPlugin, countedProgress } from '@poke/cli';
import { tempDir } from './helpers.js';

/** A source that reports `steps` counted events, like generation does. */
function countingSource(steps: number): PokePlugin {
  const source: DataSource = {
    name: 'counting',
    schema: { type: 'object' },
    async load(_options, context) {
      for (let i = 1; i <= steps; i++) context.progress(`counting: item ${i}/${steps}`, i, steps);
      context.progress('counting: done');
      return generateSynthetic({ samples: 200, features: 6, actions: 3, legalProbability: 0.7, noise: 0 }, 1);
    },
  };
  return { name: 'counting-source', apply: (t) => t.registerDataSource(source) };
}

function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  // cli-progress draws only on a terminal: make the stream look like one.
  Object.assign(stream, { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let out = '';
  stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { stream, text: () => out };
}

async function runWith(tty: boolean, steps: number): Promise<string> {
  const dir = await tempDir('progress');
  const { stream, text } = capture(tty);
  const { config } = await resolveConfig({
    user: { data: { source: 'counting' }, model: { hiddenSizes: [4] }, train: { epochs: 1, backend: 'cpu' } },
    file: undefined,
    baseDir: dir,
  });
  const trainer = new Trainer(config, { baseDir: dir, logger: silentLogger, plugins: [countingSource(steps), progressPlugin({ stream, tty })] });
  await trainer.run();
  return text();
}

describe('progress of data loading', () => {
  it('on a terminal, draws a bar with the count, then prints the final line', async () => {
    const out = await runWith(true, 40);
    expect(out).to.match(/counting: item \S+ \d+\/40 \| ETA/);
    expect(out).to.include('counting: item 40/40\n');
    expect(out).to.include('counting: done\n');
  });

  it('in a log, prints a few lines and the last, not one per event', async () => {
    const out = await runWith(false, 5000);
    const lines = out.split('\n').filter((l) => l.startsWith('counting:'));
    expect(lines).to.include('counting: item 5000/5000').and.include('counting: done');
    expect(lines.length).to.be.lessThan(20);
    expect(out).to.not.include('ETA');
  });
});

describe('progress of counted work in commands', () => {
  it('on a terminal, one bar per label, each ending with its final count', () => {
    const { stream, text } = capture(true);
    const progress = countedProgress(stream, true);
    for (let i = 1; i <= 30; i++) progress.update('battles', i, 30);
    for (let i = 1; i <= 3; i++) progress.update('files', i, 3);
    expect(text()).to.match(/battles \S+ \d+\/30 \| ETA/).and.match(/files \S+ \d+\/3 \| ETA/);
    expect(text()).to.include('battles 30/30\n').and.include('files 3/3\n');
  });

  it('in a log, the first and the last line, not every event', () => {
    const { stream, text } = capture(false);
    const progress = countedProgress(stream, false);
    for (let i = 1; i <= 1000; i++) progress.update('battles', i, 1000);
    const lines = text().trim().split('\n');
    expect(lines[0]).to.equal('battles 1/1000');
    expect(lines.at(-1)).to.equal('battles 1000/1000');
    expect(lines.length).to.be.lessThan(10);
  });
});
