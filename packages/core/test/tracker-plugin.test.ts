import { expect } from 'chai';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, MetricsRecord, PokePlugin } from '@poke/core';
import httpTracker, { syncRun } from '../../../examples/plugins/http-tracker.js';
import type { Entry } from '../../../examples/plugins/http-tracker.js';
import { makeTrainer, smallConfig, tempDir } from './helpers.js';
import { recordingLogger } from './tracker-helpers.js';

/** A stand-in for a tracking server (the example tracker's is any URL): keeps what it gets, or answers 503 while `down`. */
class Recorder {
  readonly received: Entry[] = [];
  down = false;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Recorder> {
    let recorder: Recorder | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (recorder!.down) return void res.writeHead(503).end();
        recorder!.received.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Entry[]));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    recorder = new Recorder(server);
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/records`;
  }

  steps(): number[] {
    return this.received.flatMap((e) => (e.t === 'metrics' ? [e.step] : []));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Train with the example tracker (docs/plugins.md, "Writing a tracker"): a third tracker made of the core's tracker base. */
async function train(dir: string, url: string, logger: Logger, before: PokePlugin[] = []): Promise<{ steps: number[]; runDir: string }> {
  const trainer = await makeTrainer(smallConfig({ runName: 'r1' }), dir, { logger, plugins: [...before, httpTracker({ url })] });
  const steps: number[] = [];
  trainer.hooks.log.tap('test', (record: MetricsRecord) => void steps.push(record.step));
  const summary = await trainer.run();
  expect(summary.status).to.equal('completed');
  return { steps, runDir: summary.runDir };
}

describe('tracker plugin base (the example HTTP tracker)', () => {
  let server: Recorder;
  beforeEach(async () => (server = await Recorder.start()));
  afterEach(() => server.close());

  it('sends every record once, in order, then the closing entry', async () => {
    const logger = recordingLogger();
    const { steps } = await train(await tempDir('tracker-base'), server.url, logger);
    expect(server.steps()).to.deep.equal(steps);
    expect(server.received.at(-1)).to.deep.equal({ t: 'end', status: 'completed' });
    expect(logger.warnings()).to.deep.equal([]);
  });

  it('keeps training through an outage with one warning, names the sync command, and sync sends the rest once', async () => {
    server.down = true;
    const logger = recordingLogger();
    const { steps, runDir } = await train(await tempDir('tracker-base-down'), server.url, logger);
    expect(logger.warnings().filter((w) => w.includes('cannot reach'))).to.have.length(1);
    const notDelivered = logger.warnings().filter((w) => w.includes('were not delivered'));
    expect(notDelivered).to.have.length(1);
    expect(notDelivered[0]).to.include(`poke http sync ${runDir}`);
    server.down = false;
    expect(await syncRun(runDir, logger, 30_000)).to.include({ pending: 0 });
    expect(await syncRun(runDir, logger, 30_000)).to.include({ pending: 0, requests: 0 });
    expect(server.steps()).to.deep.equal(steps);
  });

  it('a tracker that cannot set up is one warning, and training goes on without it', async () => {
    // Listed first, its setup runs before the tracker's: the tracker then finds a damaged run.json.
    const damage: PokePlugin = {
      name: 'test:damage',
      apply: (trainer) =>
        trainer.hooks.setup.tapPromise('test:damage', async ({ runDir }) => {
          await mkdir(join(runDir, 'http'), { recursive: true });
          await writeFile(join(runDir, 'http', 'run.json'), '{ damaged');
        }),
    };
    const logger = recordingLogger();
    await train(await tempDir('tracker-base-damaged'), server.url, logger, [damage]);
    expect(logger.warnings()).to.have.length(1);
    expect(logger.warnings()[0]).to.match(/^warning: http: cannot set up HTTP tracker logging \(.*run\.json is damaged.*\); training goes on without it$/);
    expect(server.received).to.deep.equal([]);
  });
});
