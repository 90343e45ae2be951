import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MlflowClient } from '@poke/plugin-mlflow';
import type { Metric, Run } from '@poke/plugin-mlflow';
import { startPoke, tempDir } from '../../cli/test/helpers.js';
import { MlflowServer } from './server.js';
import { CONFIG, PLANNED_STEPS } from '../../../test/live-run.js';

/**
 * The background sender delivers while training runs, through the `poke` binary
 * with the checkpoint plugin (which taps afterStep on every step, so a trainer
 * that yields only when nothing is tapped never gives the sender a turn).
 *
 * Nothing here is timed: the test polls the server while the run trains, and
 * the moment a metric is there it interrupts the run. A run delivered to only
 * at its end completes all its steps first; a live sender gets the run
 * interrupted far before that, however fast or slow the machine is, since the
 * run is much longer than a few requests to a local server.
 */

interface Seen {
  runId: string;
  /** The newest metric the server held when it was first polled with any. */
  metric: Metric;
  /** Date.now() when it was seen. */
  at: number;
}

/** Polls the server until the experiment's run holds a metric; undefined when `exited` settles first. */
async function firstMetric(client: MlflowClient, experiment: string, exited: Promise<unknown>): Promise<Seen | undefined> {
  let over = false;
  void exited.then(() => (over = true));
  while (!over) {
    const found = await client.getExperimentByName(experiment);
    if (found) {
      const { runs = [] } = await client.request<{ runs?: Run[] }>('POST', '/api/2.0/mlflow/runs/search', {
        json: { experiment_ids: [found.experiment_id], max_results: 10 },
      });
      const metrics = runs.flatMap((run) => (run.data.metrics ?? []).map((metric) => ({ runId: run.info.run_id, metric })));
      if (metrics.length > 0) {
        const newest = metrics.reduce((a, b) => (Number(b.metric.step) > Number(a.metric.step) ? b : a));
        return { ...newest, at: Date.now() };
      }
    }
    await delay(50);
  }
  return undefined;
}

describe('plugin-mlflow through the poke binary: delivery while training runs', function () {
  let server: MlflowServer;
  let client: MlflowClient;

  before(async function () {
    this.timeout(240_000);
    server = await MlflowServer.create(this);
    client = new MlflowClient(server.url);
  });

  after(async function () {
    this.timeout(60_000);
    await server?.dispose();
  });

  it('a metric reaches the server while the first epoch trains (checkpoint + csv + mlflow), and no false "cannot reach" follows', async function () {
    this.timeout(300_000);
    const dir = await tempDir('mlflow-live');
    const config = {
      ...CONFIG,
      plugins: ['@poke/plugin-checkpoint', '@poke/plugin-csv', ['@poke/plugin-mlflow', { trackingUri: server.url, experiment: 'live' }]],
    };
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
    const run = startPoke(['train', '--no-progress', '--run-name', 'live'], dir, { MLFLOW_TRACKING_URI: undefined });

    const seen = await firstMetric(client, 'live', run.result);
    if (seen) run.kill('SIGINT');
    const outcome = await run.result;
    const info = JSON.parse(await readFile(join(dir, 'runs', 'live', 'run.json'), 'utf8'));
    const finalStep: number = info.progress.globalStep;
    expect(seen, `the run ended (${info.status} at step ${finalStep} of ${PLANNED_STEPS}) before any metric reached the server\n${outcome.stderr}`).to.not.equal(undefined);

    const loggedAt = Number(seen!.metric.step);
    const lag = `step ${loggedAt} was on the server ${((seen!.at - Number(seen!.metric.timestamp)) / 1000).toFixed(1)} s after it was logged`;
    // Delivered only once training is over, the record would be seen after the last step.
    expect(finalStep, `stopped at step ${finalStep} of ${PLANNED_STEPS}; ${lag}\n${outcome.stderr}`).to.be.lessThan(PLANNED_STEPS / 2);
    expect(info.status).to.equal('interrupted');
    expect(outcome.code, outcome.stderr).to.equal(130);
    expect(loggedAt, lag).to.be.at.most(finalStep);
    expect(outcome.stderr).to.not.include('cannot reach');
    expect(outcome.stderr).to.not.include('were not delivered');

    // What was left was delivered at the end, and the run is marked as interrupted.
    const mlflowRun = await client.getRun(seen!.runId);
    expect(mlflowRun.info.status).to.equal('KILLED');
    const history = await client.getMetricHistory(seen!.runId, seen!.metric.key);
    expect(Math.max(...history.map((m) => Number(m.step)))).to.be.within(loggedAt, finalStep);
  });
});
