// @poke/showdown: poke play's throughput on a local pokemon-showdown server (the pinned dev dependency, on
// 127.0.0.1), a policy bot challenging a local heuristic bot, with 1 and 4 battles at once. The policy is a
// quickly trained [256, 256] network: its inference cost is a real policy's, its strength does not matter here.
//   BENCH_PLAY_BATTLES  battles per concurrency (default 40)
import { join } from 'node:path';
import { register } from 'tsx/esm/api';
import { Rng } from '@poke/core';
import { Bot, agentAction, builtinAgent, encode, policyAgent } from '@poke/showdown';
import { benchDir, trainShowdownPolicy } from './showdown-policy.js';

const BATTLES = Number(process.env.BENCH_PLAY_BATTLES ?? 40);

async function quickPolicy(dir) {
  const { trainer } = await trainShowdownPolicy(dir, { runName: 'play', data: { battles: 100, seed: 5 }, epochs: 2 });
  const agent = policyAgent(trainer.model);
  return (view, mask) => agent.choose(encode(view), mask);
}

function heuristic() {
  const agent = builtinAgent('heuristic', 1);
  const rng = Rng.fromSeed(1);
  return (view, mask) => agentAction(agent, view, mask, rng);
}

export async function run() {
  register();
  const { startShowdownServer } = await import('../test/showdown-server.ts');
  const dir = benchDir('play');
  const policy = await quickPolicy(dir);
  const server = await startShowdownServer();
  console.log(`## play: poke play (policy) vs a local heuristic bot on pokemon-showdown at ${server.url}, ${BATTLES} battles each`);
  try {
    for (const concurrent of [1, 4]) {
      const name = `local${concurrent}`;
      let ready;
      const loggedIn = new Promise((resolve) => (ready = resolve));
      const acceptor = new Bot({
        server: server.url, name, mode: { kind: 'accept', battles: BATTLES }, format: 'gen9randombattle', maxConcurrent: concurrent,
        outDir: join(dir, `${name}-local`), choose: heuristic(), onEvent: (e) => e.type === 'logged-in' && ready(),
      });
      const accepted = acceptor.start();
      await loggedIn;
      const started = performance.now();
      const bot = new Bot({ server: server.url, name: `poke${concurrent}`, mode: { kind: 'challenge', user: name, battles: BATTLES }, format: 'gen9randombattle', maxConcurrent: concurrent, outDir: join(dir, `poke${concurrent}`), choose: policy });
      const summary = await bot.start();
      const minutes = (performance.now() - started) / 60_000;
      await accepted;
      console.log(`${concurrent} at once: ${summary.battles} battles in ${(minutes * 60).toFixed(1)} s = ${(summary.battles / minutes).toFixed(1)} battles/min ` +
        `(${summary.wins} won, ${summary.aborted} aborted, ${summary.rejected} refused choices)`);
    }
  } finally {
    await server.stop();
  }
}
