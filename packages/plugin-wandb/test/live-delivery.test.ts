import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startPoke, tempDir } from '../../cli/test/helpers.js';
import { FakeWandbServer } from './fixtures/wandb-server.js';
import type { FakeRun } from './fixtures/wandb-server.js';
import { API_KEY } from './helpers.js';
import { CONFIG, PLANNED_STEPS } from '../../../test/live-run.js';

/**
 * The background sender delivers while training runs, through the `poke` binary
 * with the checkpoint plugin (which taps afterStep on every step, so a trainer
 * that yields only when nothing is tapped never gives the sender a turn).
 *
 * Nothing here is timed: the test watches the W&B recording server while the run
 * trains, and the moment a history row is there it interrupts the run. A run
 * delivered to only at its end completes all its steps first; a live sender
 * gets the run interrupted far before that, however fast or slow the machine
 * is, since the run is much longer than a few requests to a local server.
 */

interface Seen {
  run: FakeRun;
  /** The newest history row the server held when it was first seen with any. */
  row: Record<string, any>;
  /** Date.now() when it was seen. */
  at: number;
}

/** Watches the server until a run holds a history row; undefined when `exited` settles first. */
async function firstRow(server: FakeWandbServer, exited: Promise<unknown>): Promise<Seen | undefined> {
  let over = false;
  void exited.then(() => (over = true));
  while (!over) {
    for (const run of server.runs.values()) {
      const row = run.history.at(-1);
      if (row) return { run, row, at: Date.now() };
    }
    await delay(50);
  }
  return undefined;
}

describe('plugin-wandb through the poke binary: delivery while training runs', function () {
  let server: FakeWandbServer;

  before(async () => {
    server = await FakeWandbServer.create({ apiKey: API_KEY });
  });
  after(async () => {
    await server?.stop();
  });

  it('a history row reaches the server while the first epoch trains (checkpoint + csv + wandb), and no false "cannot reach" follows', async function () {
    this.timeout(300_000);
    const dir = await tempDir('wandb-live');
    const config = {
      ...CONFIG,
      // one request a second rather than the SDK's one per 15 s: the run must see several before it ends on any machine
      plugins: ['@poke/plugin-checkpoint', '@poke/plugin-csv', ['@poke/plugin-wandb', { baseUrl: server.url, project: 'live', flushInterval: 1 }]],
    };
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
    const run = startPoke(['train', '--no-progress', '--run-name', 'live'], dir, {
      WANDB_API_KEY: API_KEY,
      WANDB_MODE: undefined,
      WANDB_BASE_URL: undefined,
    });

    const seen = await firstRow(server, run.result);
    if (seen) run.kill('SIGINT');
    const outcome = await run.result;
    const info = JSON.parse(await readFile(join(dir, 'runs', 'live', 'run.json'), 'utf8'));
    const finalStep: number = info.progress.globalStep;
    expect(seen, `the run ended (${info.status} at step ${finalStep} of ${PLANNED_STEPS}) before any history row reached the server\n${outcome.stderr}`).to.not.equal(undefined);

    const loggedAt: number = seen!.row._step;
    const lag = `step ${loggedAt} was on the server ${(seen!.at / 1000 - seen!.row._timestamp).toFixed(1)} s after it was logged`;
    // Delivered only once training is over, the record would be seen after the last step.
    expect(finalStep, `stopped at step ${finalStep} of ${PLANNED_STEPS}; ${lag}\n${outcome.stderr}`).to.be.lessThan(PLANNED_STEPS / 2);
    expect(info.status).to.equal('interrupted');
    expect(outcome.code, outcome.stderr).to.equal(130);
    expect(loggedAt, lag).to.be.at.most(finalStep);
    expect(outcome.stderr).to.not.include('cannot reach');
    expect(outcome.stderr).to.not.include('were not delivered');

    // What was left was delivered at the end, and the run is marked as interrupted (W&B's exit code 255).
    expect(seen!.run.exitcode).to.equal(255);
    expect(seen!.run.problems).to.deep.equal([]);
    expect(seen!.run.history.at(-1)!._step).to.be.within(loggedAt, finalStep);
  });
});
