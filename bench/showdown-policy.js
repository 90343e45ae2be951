// What the benches that play battles share: a scratch folder for their runs, and a policy trained
// on generated battles, [256, 256] like a real one, so its inference cost is a real policy's.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Trainer, resolveConfig, silentLogger } from '@poke/core';
import showdown from '@poke/showdown';

/** A new folder under .cache/bench-<name> (kept, so a bench's runs can be looked at afterwards). */
export function benchDir(name) {
  const root = join(process.cwd(), '.cache', `bench-${name}`);
  mkdirSync(root, { recursive: true });
  return mkdtempSync(join(root, 'run-'));
}

/** Train on `data` (the showdown source's options) for `epochs`; the trainer and its summary. */
export async function trainShowdownPolicy(dir, { runName, data, epochs }) {
  const user = {
    runName,
    seed: 1,
    data: { source: 'showdown', ...data },
    model: { hiddenSizes: [256, 256], dropout: 0.1 },
    train: { epochs, batchSize: 256, learningRate: 0.001 },
  };
  const { config } = await resolveConfig({ user, file: undefined, baseDir: dir });
  const trainer = new Trainer(config, { plugins: [showdown()], baseDir: dir, logger: silentLogger });
  const summary = await trainer.run();
  return { trainer, summary };
}
