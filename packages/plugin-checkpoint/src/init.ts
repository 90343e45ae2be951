import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '@poke/core';
import { restoreWeights, restoreOptimizer } from '@poke/core/internal';
import type { InitRequest, RunParent, Trainer } from '@poke/core';
import { CheckpointManager } from './manager.js';
import { readCheckpoint } from './format.js';
import { METADATA_FILE } from './json-schemas.js';
import type { LoadedCheckpoint } from './types.js';

/** The checkpoint folder `--init-from` names: a checkpoint folder, a run folder (its best, else its latest) or a run name. */
async function locate(request: InitRequest, trainer: Trainer): Promise<LoadedCheckpoint> {
  const given = resolve(request.baseDir, request.from);
  if (existsSync(join(given, METADATA_FILE))) return readCheckpoint(realpathSync(given));
  const runDir = [given, join(request.runsDir, request.from)].find((dir) => existsSync(join(dir, 'checkpoints')));
  if (!runDir) {
    throw new UserError(
      `--init-from ${request.from}: not a checkpoint folder, a run folder with checkpoints, or a run name under ${request.runsDir}`,
      'give runs/<run>, a run name, or runs/<run>/checkpoints/<id>',
    );
  }
  const manager = await CheckpointManager.open(join(runDir, 'checkpoints'), { monitor: { name: 'val_loss', mode: 'min' }, logger: trainer.logger, repair: false }).catch((err: unknown) => {
    throw new UserError(`--init-from ${request.from}: ${(err as Error).message}`);
  });
  if (manager.list().length === 0) throw new UserError(`--init-from ${request.from}: ${runDir} has no checkpoint`);
  return manager.load(manager.getBest() ? 'best' : 'latest');
}

/** Every weight whose shape differs, by layer name: the fine-tuned model must have the parent's shape. */
function shapeMismatch(trainer: Trainer, loaded: LoadedCheckpoint): string[] {
  const model = trainer.model.weights.map((w) => ({ name: w.originalName, shape: w.shape }));
  const saved = loaded.weights;
  const out: string[] = [];
  for (let i = 0; i < Math.max(model.length, saved.length); i++) {
    const m = model[i];
    const s = saved[i];
    if (m && s && m.name === s.name && m.shape.join('x') === s.shape.join('x')) continue;
    out.push(`${s?.name ?? m!.name}: checkpoint ${s ? `[${s.shape}]` : 'has none'}, model ${m ? `[${m.shape}]` : 'has none'}`);
  }
  return out;
}

/**
 * Load another run's verified checkpoint into the fresh model (and, when asked,
 * the optimizer). Nothing is written: the new run's folder does not exist yet.
 */
export async function initFrom(request: InitRequest, trainer: Trainer): Promise<RunParent> {
  const loaded = await locate(request, trainer);
  const mismatch = shapeMismatch(trainer, loaded);
  if (mismatch.length > 0) {
    throw new UserError(
      `--init-from ${request.from}: checkpoint ${loaded.metadata.id} does not fit this run's model: ${mismatch.join('; ')}`,
      'give this run the parent\'s model.hiddenSizes and data features/actions',
    );
  }
  restoreWeights(trainer.model, loaded.weights);
  if (request.optimizer) await restoreOptimizer(trainer.optimizer, loaded.optimizer);
  const runDir = dirname(dirname(loaded.dir));
  const runName = basename(dirname(loaded.dir)) === 'checkpoints' ? basename(runDir) : undefined;
  return {
    ...(loaded.metadata.runId ? { runId: loaded.metadata.runId } : {}),
    ...(runName ? { runName } : {}),
    checkpoint: loaded.metadata.id,
    path: loaded.dir,
    optimizer: request.optimizer,
  };
}
