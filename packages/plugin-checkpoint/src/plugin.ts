import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { Stage, Monitor, selectBackend, validatePluginOptions, describeDiskError } from '@poke/core';
import { snapshotWeights, snapshotOptimizer, restoreWeights, restoreOptimizer, configForDisk, gitCommit } from '@poke/core/internal';
import type { PokePlugin, Trainer, RunContext, TrainingStateSnapshot } from '@poke/core';
import { checkpointOptionsSchema } from './schema.js';
import type { CheckpointOptions, ResolvedCheckpointOptions as Resolved } from './schema.js';
import { CheckpointManager } from './manager.js';
import { initFrom } from './init.js';
import { getCheckpointHooks } from './hooks.js';
import type { CheckpointHooks } from './hooks.js';
import { checkpointId } from './format.js';
import { CheckpointError } from './errors.js';
import { checkMonitor } from './monitor.js';
import { checkpointIOHandler } from './io-handler.js';
import { PLUGIN_NAME } from './name.js';
import type { CheckpointContent, SaveReason, LoadedCheckpoint } from './types.js';

export { PLUGIN_NAME };

/**
 * Saves checkpoints into runs/<run>/checkpoints/, decides the best one after
 * each validation, and answers `--resume`. Other plugins react through
 * `CheckpointPlugin.getHooks(trainer)`.
 */
export class CheckpointPlugin implements PokePlugin {
  readonly name = PLUGIN_NAME;
  readonly options: Resolved;
  /** Set at `setup`. */
  manager: CheckpointManager | undefined;
  private trainer!: Trainer;
  private context!: RunContext;
  private monitor = new Monitor('val_loss');
  private inFlight: Promise<void> | undefined;
  private backgroundError: unknown;
  private lastSaveTime = 0;
  private commit: string | undefined;
  private readonly warnedDisk = new Set<string>();
  /** What the resume loaded and what failed verification on the way, for `setup` to act on. */
  private resumedFrom: { id: string; failed: ReadonlyArray<{ id: string; error: string }> } | undefined;

  static getHooks(trainer: Trainer): CheckpointHooks {
    return getCheckpointHooks(trainer);
  }

  constructor(options?: CheckpointOptions) {
    this.options = validatePluginOptions(PLUGIN_NAME, checkpointOptionsSchema, options);
  }

  apply(trainer: Trainer): void {
    this.trainer = trainer;
    const hooks = trainer.hooks;
    hooks.setup.tapPromise(PLUGIN_NAME, (context) => this.setup(context));
    hooks.resume.tapPromise(PLUGIN_NAME, (context) => this.resume(context));
    hooks.init.tapPromise(PLUGIN_NAME, (request) => initFrom(request, trainer));
    // Saves tap at SNAPSHOT, after every other plugin's tap of the same hook,
    // so a checkpoint holds their state as of the step it covers.
    const save = { name: PLUGIN_NAME, stage: Stage.SNAPSHOT };
    hooks.afterStep.tapPromise(save, async ({ globalStep }) => {
      const reason = this.stepTrigger(globalStep);
      if (reason) await this.save(reason);
    });
    hooks.afterValidate.tapPromise(save, async ({ metrics }) => {
      if (this.options.every === 'epoch' || this.options.onValidate) {
        await this.save('validation', metrics[this.monitor.name] ?? null);
      }
    });
    // Before any other plugin's `done`: the last checkpoint exists when they finish.
    hooks.done.tapPromise({ name: PLUGIN_NAME, stage: Stage.FIRST }, (summary) => this.finish(summary.status));
  }

  private chooseMonitor(context: RunContext): void {
    const name = this.options.monitor ?? (context.valSamples > 0 ? 'val_loss' : 'train_loss');
    checkMonitor(PLUGIN_NAME, name, this.trainer.metricNames(), this.options.monitor !== undefined);
    this.monitor = new Monitor(name, this.options.mode);
  }

  private checkpointsDir(context: RunContext): string {
    return join(context.runDir, 'checkpoints');
  }

  private async setup(context: RunContext): Promise<void> {
    this.context = context;
    this.chooseMonitor(context);
    this.commit = gitCommit(this.trainer.baseDir);
    this.manager = await CheckpointManager.open(this.checkpointsDir(context), {
      monitor: this.monitor,
      logger: this.trainer.logger,
      repair: true,
    });
    await this.setAsideCorrupt();
    this.lastSaveTime = performance.now();
  }

  /**
   * Checkpoints the resume found corrupt, and a best that does not verify, leave
   * the manifest: training saves their steps again, and best and latest end up
   * on checkpoints that verify.
   */
  private async setAsideCorrupt(): Promise<void> {
    const manager = this.manager!;
    const resumed = this.resumedFrom;
    this.resumedFrom = undefined;
    if (!resumed) return;
    for (const { id, error } of resumed.failed) await manager.quarantine(id, error);
    for (let best = manager.getBest(); best && best.id !== resumed.id; best = manager.getBest()) {
      const result = await manager.verify(best.id);
      if (result.ok) break;
      await manager.quarantine(best.id, result.error!);
    }
  }

  private stepTrigger(globalStep: number): SaveReason | undefined {
    const every = this.options.every;
    if (typeof every !== 'object') return undefined;
    if ('steps' in every) return globalStep % every.steps === 0 ? 'steps' : undefined;
    return performance.now() - this.lastSaveTime >= every.minutes * 60_000 ? 'minutes' : undefined;
  }

  /**
   * Everything a checkpoint holds, taken now (tensors as O(1) clones), so a later step
   * can never leak into it. The topology and the (frozen) config, which a run does not
   * change, are serialized when the writer first reads them, after its first I/O, so
   * that an async save does not hold training for them: they were 0.5 of the 1.5 ms
   * it did.
   */
  private capture(reason: SaveReason, value: number | null): CheckpointContent {
    const { trainer, context } = this;
    const state = trainer.snapshot();
    let topology: object | undefined;
    let config: Record<string, unknown> | undefined;
    return {
      epoch: state.epoch,
      step: state.globalStep,
      reason,
      state,
      get topology() {
        return (topology ??= trainer.model.toJSON(null, false) as object);
      },
      weights: snapshotWeights(trainer.model),
      optimizer: snapshotOptimizer(trainer.optimizer),
      metrics: { ...trainer.latestMetrics },
      monitor: { ...this.monitor, value },
      get config() {
        return (config ??= configForDisk(trainer.config));
      },
      backend: context.backend,
      runId: context.runId,
      ...(context.parent ? { parent: context.parent } : {}),
      ...(this.commit ? { gitCommit: this.commit } : {}),
    };
  }

  /** Save now (sync) or hand the write to the background (async); at most one background write at a time. */
  async save(reason: SaveReason, value: number | null = null): Promise<void> {
    this.rethrowBackgroundError();
    const manager = this.manager!;
    const state = this.trainer.state;
    if (manager.list().some((e) => e.id === checkpointId(state.epoch, state.globalStep))) return;
    const hooks = getCheckpointHooks(this.trainer);
    if (this.inFlight) await this.inFlight;
    await hooks.beforeSave.promise({ reason, epoch: state.epoch, step: state.globalStep });
    const content = this.capture(reason, value);
    this.lastSaveTime = performance.now();
    const write = this.write(content);
    if (!this.options.async) return write;
    this.inFlight = write
      .catch((err: unknown) => {
        this.backgroundError = err;
        this.trainer.logger.warn(`checkpoint: background save of ${checkpointId(content.epoch, content.step)} failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  private async write(content: CheckpointContent): Promise<void> {
    const manager = this.manager!;
    let saved: Awaited<ReturnType<CheckpointManager['save']>>;
    try {
      saved = await manager.save(content);
    } catch (err) {
      this.onSaveFailure(err, checkpointId(content.epoch, content.step));
      return;
    } finally {
      for (const t of [...content.weights.map((w) => w.tensor), ...content.optimizer.buffers]) t.dispose();
    }
    const { entry, isBest, skipped } = saved;
    if (skipped) return;
    const value = entry.value === null ? '' : `, ${this.monitor.name} ${entry.value.toFixed(4)}`;
    this.trainer.logger.info(`checkpoint: saved ${entry.id} (${entry.reason}${value}${isBest ? ', new best' : ''})`);
    if (entry.bytes > this.options.maxBytes) {
      this.trainer.logger.warn(`checkpoint ${entry.id} is ${entry.bytes} bytes, over maxBytes ${this.options.maxBytes}`);
    }
    await getCheckpointHooks(this.trainer).saved.promise({ entry, dir: manager.pathOf(entry.id), isBest, manager });
  }

  /**
   * A full or read-only disk is not a bug: say so in one line. The save left
   * nothing half-written (its temporary folder is removed, the manifest is
   * untouched), so training may go on when the user chose `continue`.
   */
  private onSaveFailure(err: unknown, id: string): void {
    const disk = describeDiskError(err);
    if (!disk) throw err;
    const message = `saving ${id} failed: ${disk} in ${this.manager!.dir}; the previous checkpoints and the manifest are intact`;
    if (this.options.onSaveError === 'continue') {
      if (!this.warnedDisk.has(disk)) this.trainer.logger.warn(`checkpoint: ${message}; training continues (onSaveError: continue)`);
      this.warnedDisk.add(disk);
      return;
    }
    throw new CheckpointError(id, undefined, `${message.replace(`saving ${id} `, 'save ')}`, 'free some space, or set onSaveError: "continue" to keep training without checkpoints');
  }

  private rethrowBackgroundError(): void {
    if (this.backgroundError === undefined) return;
    const err = this.backgroundError;
    this.backgroundError = undefined;
    throw err;
  }

  /**
   * Runs before `setup` and before anything is written: the checkpoint is found
   * and verified through an in-memory view of the folder, so a resume that fails
   * leaves the run as it was.
   */
  private async resume(context: RunContext): Promise<TrainingStateSnapshot> {
    this.chooseMonitor(context);
    const manager = await CheckpointManager.open(this.checkpointsDir(context), {
      monitor: this.monitor,
      logger: this.trainer.logger,
      repair: 'in-memory',
    });
    const which = context.resume ?? 'latest';
    if (which === 'latest' && manager.list().length === 0) {
      this.trainer.logger.warn(`resume: no checkpoint yet in ${manager.dir}; starting from the beginning`);
      return this.trainer.snapshot();
    }
    const loaded = await manager.load(which);
    this.restoreModel(loaded);
    await restoreOptimizer(this.trainer.optimizer, loaded.optimizer);
    this.warnOnConfigChange(loaded);
    await getCheckpointHooks(this.trainer).loaded.promise({ checkpoint: loaded, metadata: loaded.metadata });
    this.trainer.logger.info(`resume: loaded checkpoint ${loaded.metadata.id} from ${loaded.dir}`);
    this.resumedFrom = { id: loaded.metadata.id, failed: manager.failedVerification };
    return loaded.state;
  }

  private restoreModel(loaded: LoadedCheckpoint): void {
    try {
      restoreWeights(this.trainer.model, loaded.weights);
    } catch (err) {
      throw new CheckpointError(loaded.metadata.id, 'model.json', `does not fit the configured model: ${(err as Error).message}`);
    }
  }

  /** Resuming with another seed, data or batch size continues, but not where the run left off. */
  private warnOnConfigChange(loaded: LoadedCheckpoint): void {
    const then = loaded.metadata.config as Record<string, unknown> & { train?: Record<string, unknown> };
    const now = configForDisk(this.trainer.config) as Record<string, unknown> & { train?: Record<string, unknown> };
    const changed = ['seed', 'data', 'model'].filter((k) => JSON.stringify(then[k]) !== JSON.stringify(now[k]));
    if (JSON.stringify(then.train?.batchSize) !== JSON.stringify(now.train?.batchSize)) changed.push('train.batchSize');
    if (changed.length) {
      this.trainer.logger.warn(`resume: ${changed.join(', ')} differ from the checkpoint's config; the data order will not match the original run`);
    }
  }

  private async finish(status: string): Promise<void> {
    if (!this.manager) return;
    if (this.inFlight) await this.inFlight;
    if (this.options.saveLast) {
      try {
        await this.save('last');
      } catch (err) {
        // The run is ending either way; a failed last save must not hide why.
        this.trainer.logger.warn(`checkpoint: last save on ${status} failed: ${(err as Error).message}`);
      }
      if (this.inFlight) await this.inFlight;
    }
    await this.manager.idle();
  }
}

export function checkpoint(options?: CheckpointOptions): CheckpointPlugin {
  return new CheckpointPlugin(options);
}

/**
 * Load a checkpoint's policy as a tfjs LayersModel (for evaluation or export).
 * With no backend chosen yet, it chooses as training does (`auto`: native
 * TensorFlow, else wasm, else cpu); a caller that chose one keeps it.
 */
export async function loadPolicyModel(dir: string): Promise<tfl.LayersModel> {
  if (!tf.engine().backendName) await selectBackend('auto');
  return tfl.loadLayersModel(checkpointIOHandler(dir));
}
