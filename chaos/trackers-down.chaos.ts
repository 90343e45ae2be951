import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import csv from '@poke/plugin-csv';
import mlflow, { MlflowClient } from '@poke/plugin-mlflow';
import wandb from '@poke/plugin-wandb';
import { makeTrainer, smallConfig } from '../packages/core/test/helpers.js';
import { MlflowServer, freePort, requireMlflow } from '../packages/plugin-mlflow/test/server.js';
import { FakeWandbServer } from '../packages/plugin-wandb/test/fixtures/wandb-server.js';
import { summary, tempDir, poke, csvRows } from './support.js';

const KEY = 'chaos0test0key0' + 'e'.repeat(25);
const CONFIG = smallConfig({ data: { samples: 2400, features: 24, actions: 6 }, model: { hiddenSizes: [64] }, train: { epochs: 4, batchSize: 32, logEvery: 5 } });

describe('chaos: trackers down for a whole run', function () {
  this.timeout(10 * 60_000);

  it('trains at normal speed, spools every record, and sync delivers each exactly once', async function () {
    // Installed (or found) before anything is timed; the server starts only after the run.
    await requireMlflow(this);
    const dir = await tempDir('trackers');
    process.env.WANDB_API_KEY = KEY;
    const wandbServer = await FakeWandbServer.create({ apiKey: KEY });
    await wandbServer.stop(); // its port stays known and closed until the sync
    const mlflowUri = `http://127.0.0.1:${await freePort()}`;

    // A first run warms up the JIT and kernels, so neither timed run gets that cost.
    await (await makeTrainer({ ...CONFIG, runName: 'warmup' }, dir, { plugins: [csv()] })).run();
    const reference = await makeTrainer({ ...CONFIG, runName: 'reference' }, dir, { plugins: [csv()] });
    const referenceSummary = await reference.run();
    const lines: string[] = [];
    const down = await makeTrainer({ ...CONFIG, runName: 'down' }, dir, {
      plugins: [csv(), mlflow({ trackingUri: mlflowUri, experiment: 'chaos' }), wandb({ project: 'chaos', baseUrl: wandbServer.url })],
      logger: { info: (m) => void lines.push(m), warn: (m) => void lines.push(`warning: ${m}`) },
    });
    const downSummary = await down.run();
    expect(downSummary.status).to.equal('completed');
    const ratio = downSummary.seconds / referenceSummary.seconds;
    const warnings = lines.filter((l) => l.startsWith('warning:'));
    expect(warnings.filter((l) => /mlflow/i.test(l) && /unreachable|cannot reach/i.test(l))).to.have.length.at.most(1);

    const runDir = join(dir, 'runs', 'down');
    const rows = await csvRows(join(runDir, 'metrics.csv'));
    const steps = rows.map((r) => Number(r.step));

    const mlflowServer = await MlflowServer.create(this);
    try {
      await wandbServer.start();
      for (let round = 0; round < 2; round++) {
        const m = await poke(['mlflow', 'sync', runDir, '--tracking-uri', mlflowServer.url, '--json'], dir);
        expect(m.code, m.stderr).to.equal(0);
        const w = await poke(['wandb', 'sync', runDir, '--json'], dir, { WANDB_API_KEY: KEY });
        expect(w.code, w.stderr).to.equal(0);
      }
      const mlflowRun = JSON.parse(await readFile(join(runDir, 'mlflow', 'run.json'), 'utf8'));
      const client = new MlflowClient(mlflowServer.url);
      const history = await client.getMetricHistory(mlflowRun.runId, 'loss');
      const mlflowSteps = history.map((h: { step: number }) => h.step).sort((a: number, b: number) => a - b);
      expect(mlflowSteps).to.deep.equal(steps);

      const [run] = [...wandbServer.runs.values()];
      expect(run!.problems).to.deep.equal([]);
      expect(run!.history.map((h) => h._step)).to.deep.equal(steps);
      const lost = steps.length - Math.min(mlflowSteps.length, run!.history.length);
      console.log(`      ${steps.length} records; trainer time with both trackers down / without trackers: ${ratio.toFixed(2)}×; MLflow ${mlflowSteps.length}, W&B ${run!.history.length} delivered by sync (twice, no duplicates)`);
      summary.push({ scenario: 'trackers down (MLflow + W&B)', runs: 2, faults: 2, resumed: 0, recordsLost: lost, notes: `time ratio ${ratio.toFixed(2)}×; sync ×2 delivered ${steps.length} records once each` });
    } finally {
      await mlflowServer.stop();
      await wandbServer.stop();
      delete process.env.WANDB_API_KEY;
    }
  });
});
