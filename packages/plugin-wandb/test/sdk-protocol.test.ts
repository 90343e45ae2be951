/**
 * The official JS SDK (@wandb/sdk) against the recording server: proves the
 * server answers the protocol the SDK speaks (GraphQL Viewer/UpsertBucket,
 * file_stream history lines, the closing exit code), the protocol poke's own
 * client is tested with. It also pins down why poke does not use the SDK for
 * delivery (docs/logging.md): its SIGINT handler and its offline mode.
 */
import { expect } from 'chai';
import sdk from '@wandb/sdk';
import { FakeWandbServer } from './fixtures/wandb-server.js';
import { API_KEY, withEnv } from './helpers.js';

const EVENTS = ['SIGINT', 'SIGTERM', 'beforeExit'] as const;

/** Run `fn`, then remove every process listener the SDK added (its SIGINT one calls process.exit()). */
async function isolatingListeners<T>(fn: () => Promise<T>): Promise<{ value: T; added: Record<string, number> }> {
  const before = Object.fromEntries(EVENTS.map((e) => [e, process.listeners(e as NodeJS.Signals)]));
  try {
    const value = await fn();
    const added = Object.fromEntries(EVENTS.map((e) => [e, process.listenerCount(e as NodeJS.Signals) - before[e]!.length]));
    return { value, added };
  } finally {
    for (const e of EVENTS) {
      for (const listener of process.listeners(e as NodeJS.Signals)) {
        if (!before[e]!.includes(listener)) process.off(e, listener as never);
      }
    }
  }
}

describe('the official @wandb/sdk against the recording server', function () {
  let server: FakeWandbServer;
  beforeEach(async () => {
    server = await FakeWandbServer.create({ apiKey: API_KEY, defaultEntity: 'sdk-user' });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('init → UpsertBucket with the config, log → history lines at increasing offsets, finish → exit code', async function () {
    this.timeout(60_000);
    const { added } = await isolatingListeners(async () => {
      await withEnv({ WANDB_MODE: undefined }, async () => {
        await sdk.init({ project: 'sdk-check', id: 'sdk00001', name: 'via sdk', config: { lr: 0.001, model: { hidden: [16] } }, settings: { apiKey: API_KEY, baseUrl: server.url } } as never);
        for (let step = 1; step <= 5; step++) sdk.log({ loss: 1 / step }, step * 10);
        await sdk.finish(0);
      });
    });
    // the SDK installs a SIGINT handler that ends in process.exit(), which would cut poke's graceful stop short
    expect(added.SIGINT).to.equal(1);

    const run = server.run('sdk-user', 'sdk-check', 'sdk00001')!;
    expect(run).to.not.equal(undefined);
    expect(run.displayName).to.equal('via sdk');
    expect(run.config).to.deep.equal({ lr: 0.001, model: { hidden: [16] } }); // the SDK sends the config unwrapped
    expect(server.requests.some((r) => /query Viewer/.test(r.body?.query ?? ''))).to.equal(true);
    const offsets = server.fileStreamRequests().flatMap((r) => (r.body.files?.['wandb-history.jsonl'] ? [r.body.files['wandb-history.jsonl'].offset] : []));
    expect(offsets).to.deep.equal([...offsets].sort((a, b) => a - b));
    expect(run.history.map((r) => r.loss).filter((v) => v !== undefined)).to.deep.equal([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
    expect(run.exitcode).to.equal(0);
  });

  it('with WANDB_MODE=offline the SDK drops records instead of keeping them (so poke keeps its own spool)', async function () {
    this.timeout(60_000);
    await isolatingListeners(async () => {
      await withEnv({ WANDB_MODE: 'offline' }, async () => {
        await sdk.init({ project: 'sdk-offline', id: 'sdk00002', settings: { apiKey: API_KEY, baseUrl: server.url } } as never);
        sdk.log({ loss: 1 }, 1);
        await sdk.finish(0);
      });
    });
    const run = server.run('sdk-user', 'sdk-offline', 'sdk00002');
    // the run is still created online, but no history is sent or kept anywhere
    expect(run?.history ?? []).to.deep.equal([]);
  });
});
