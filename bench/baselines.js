// @poke/showdown: the win-rate matrix of the built-in players (random, maxpower, heuristic, expert) and a
// BC policy trained on 2,000 expert battles, each pair played with sides and seeds balanced (poke eval's
// playMatch). Every pair is printed as it finishes, with its 95% interval.
//   BENCH_BASELINES_BATTLES   battles per pair (default 1000)
//   BENCH_BASELINES_TRAIN     expert battles to train the policy on (default 2000)
//   BENCH_BASELINES_OPPONENT  the expert's opponent in the training data (default heuristic)
//   BENCH_BASELINES_EPOCHS    epochs (default 12)
//   BENCH_BASELINES_PAIRS     only these pairs, e.g. "policy:heuristic,expert:heuristic"
import { OPPONENTS, builtinFor, playMatch, policyAgent } from '@poke/showdown';
import { benchDir, trainShowdownPolicy } from './showdown-policy.js';

const BATTLES = Number(process.env.BENCH_BASELINES_BATTLES ?? 1000);
const TRAIN = Number(process.env.BENCH_BASELINES_TRAIN ?? 2000);
const OPPONENT = process.env.BENCH_BASELINES_OPPONENT ?? 'heuristic';
const EPOCHS = Number(process.env.BENCH_BASELINES_EPOCHS ?? 12);
const PAIRS = process.env.BENCH_BASELINES_PAIRS?.split(',').map((p) => p.split(':'));

const pct = (x) => `${(100 * x).toFixed(1)}%`;

async function trainPolicy() {
  const started = performance.now();
  const { trainer, summary } = await trainShowdownPolicy(benchDir('baselines'), { runName: 'bc', data: { battles: TRAIN, opponent: OPPONENT, seed: 777 }, epochs: EPOCHS });
  console.log(`policy: ${TRAIN} expert-vs-${OPPONENT} battles, ${trainer.dataset.size} decisions, ${EPOCHS} epochs in ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s; val_accuracy ${summary.finalMetrics.val_accuracy?.toFixed(3)}`);
  return trainer.model;
}

export async function run() {
  const players = ['policy', ...OPPONENTS];
  const pairs = PAIRS ?? players.flatMap((a, i) => players.slice(i + 1).map((b) => [a, b]));
  console.log(`## baselines: win rate of the first against the second, ${BATTLES} battles per pair, sides and seeds balanced`);
  const model = pairs.some((p) => p.includes('policy')) ? await trainPolicy() : undefined;
  const agent = model && policyAgent(model);
  const side = (name, role) => (name === 'policy' ? () => agent : builtinFor(name, 11, role));
  console.log('| player | opponent | win rate | 95% CI | won–lost–tied | s |');
  console.log('|---|---|---|---|---|---|');
  for (const [a, b] of pairs) {
    const r = playMatch(side(a, 'player'), side(b, 'opponent'), b, { battles: BATTLES, seed: 11 });
    console.log(`| ${a} | ${b} | ${pct(r.winRate)} | ${pct(r.ci95[0])}–${pct(r.ci95[1])} | ${r.wins}–${r.losses}–${r.ties} | ${r.seconds.toFixed(0)} |`);
  }
}
