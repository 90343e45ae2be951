#!/usr/bin/env node
// npm run bench [-- NAME...]: runs the named benchmarks (default: all), each printing ratios measured side by side.
const BENCHES = {
  trainer: () => import('./trainer-overhead.js'),
  checkpoint: () => import('./checkpoint-io.js'),
  backends: () => import('./backends.js'),
  compare: () => import('./compare.js'),
  showdown: () => import('./showdown.js'),
  baselines: () => import('./baselines.js'),
  play: () => import('./play.js'),
  tensorboard: () => import('./tensorboard.js'),
  storage: () => import('./storage.js'),
  data: () => import('./data.js'),
  eval: () => import('./eval.js'),
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(BENCHES);
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const bench = await load();
  await bench.run();
}
