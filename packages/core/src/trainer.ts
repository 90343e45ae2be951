import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { createTrainerHooks } from './hooks.js';
import type { TrainerHooks } from './hooks.js';
import type { ResolvedConfig } from './config/schema.js';
import type { PokePlugin } from './plugins/types.js';
import type { RunContext, RunParent, RunStatus, RunSummary, StepEnd } from './types.js';
import { TrainingState } from './state.js';
import type { TrainingStateSnapshot } from './state.js';
import { UserError, isUserError } from './errors.js';
import { consoleLogger } from './logger.js';
import type { Logger } from './logger.js';
import { selectBackend } from './backend/select.js';
import { buildPolicy, countParameters } from './model/policy.js';
import { FlatAdam } from './model/flat-adam.js';
import { splitIndices, epochOrder, firstInvalidSample } from './data/dataset.js';
import type { Dataset, Split } from './data/dataset.js';
import type { DataSource, DataSourceContext } from './data/source.js';
import { syntheticSource } from './data/synthetic.js';
import { shardsSource } from './data/shards.js';
import { validateWithSchema } from './config/validate.js';
import { claimRunDir, startRunInfo, autoResumeMode, writeRunInfo, runInfoPath } from './run/run-dir.js';
import type { RunInfo, ClaimedRun, ClaimMode } from './run/run-dir.js';
import { writeFileAtomicSync } from './util/atomic.js';
import { gitCommit } from './util/versions.js';
import { throttle } from './util/throttle.js';
import { StepRunner } from './step.js';
import { MetricsWindow } from './metrics-window.js';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';

export interface TrainerOptions {
  /** Plugin instances; each one's `apply` runs in the constructor. */
  readonly plugins?: readonly PokePlugin[];
  /** Folder relative paths (runsDir, data paths) are resolved against. @default process.cwd() */
  readonly baseDir?: string;
  /**
   * `latest`, `best`, an id or a path: continue a run through the `resume` hook.
   * `auto`: continue the named run when it exists, start it when it does not
   * (a command a preempted job can always re-run).
   */
  readonly resume?: string;
  /**
   * Start a new run from another run's weights: a run folder (its best
   * checkpoint, else its latest), a run name under runsDir, or a checkpoint
   * folder. Answered by the `init` hook (the checkpoint plugin).
   */
  readonly initFrom?: string;
  /** With `initFrom`: also take the optimizer's state. @default false */
  readonly initOptimizer?: boolean;
  /** Stop gracefully on SIGINT/SIGTERM while running (the CLI turns this on). @default false */
  readonly handleSignals?: boolean;
  readonly logger?: Logger;
}

/** What run() builds before `setup` fires, and dispose() lets go of. */
interface Built {
  model: LayersModel;
  optimizer: tf.Optimizer;
  dataset: Dataset;
  split: Split;
  context: RunContext;
}

/**
 * Trains a behaviour-cloning policy and announces every phase through `hooks`.
 * Everything beyond training (files, trackers, checkpoints) is done by plugins.
 */
export class Trainer {
  readonly hooks: TrainerHooks = createTrainerHooks();
  readonly config: ResolvedConfig;
  readonly plugins: readonly PokePlugin[];
  readonly logger: Logger;
  readonly baseDir: string;
  readonly resumeFrom: string | undefined;
  readonly initFrom: string | undefined;
  private readonly initOptimizer: boolean;
  /** Position in the run; a plugin may read it any time and restore it through `resume`. */
  readonly state: TrainingState;
  /** Built by `run()` before `setup` fires; read-only for plugins, which change training through hooks. */
  get model(): LayersModel {
    return this.builtPart('model');
  }
  get optimizer(): tf.Optimizer {
    return this.builtPart('optimizer');
  }
  get dataset(): Dataset {
    return this.builtPart('dataset');
  }
  get split(): Split {
    return this.builtPart('split');
  }
  get context(): RunContext | undefined {
    return this.built.context;
  }
  summary: RunSummary | undefined;

  /**
   * Free the model's and the optimizer's tensors and close the dataset (a streamed one's reader
   * thread). They outlive `run()`, since callers read the trained model; a process that trains
   * run after run frees each when done with it, or Adam's two slots and the weights stay on the
   * backend (three times the model's size per run). The trainer is not used after this.
   */
  dispose(): void {
    this.built.optimizer?.dispose();
    this.built.model?.dispose();
    this.built.dataset?.close?.();
    delete this.built.optimizer;
    delete this.built.model;
    delete this.built.dataset;
    delete this.built.split;
    this.disposed = true;
  }

  private readonly built: Partial<Built> = {};
  private disposed = false;

  /** A part run() builds; a clear error rather than `undefined` read on, before it is built or after dispose(). */
  private builtPart<K extends Exclude<keyof Built, 'context'>>(part: K): Built[K] {
    const value = this.built[part];
    if (value !== undefined) return value;
    throw new Error(
      this.disposed
        ? `trainer.${part} is gone: trainer.dispose() was called; read it before disposing`
        : `trainer.${part} is not built yet: run() builds the dataset, split, model and optimizer before the setup hook fires`,
    );
  }

  private readonly dataSources = new Map<string, DataSource<never>>();
  private readonly handleSignals: boolean;
  private stopReason: string | undefined;
  private info: RunInfo | undefined;
  private claimed: ClaimedRun | undefined;
  /** What the `resume` hook is asked for: `resumeFrom`, or `latest` when `auto` found a run. */
  private resumeTarget: string | undefined;
  /** Date.now() when this session opened the run folder. */
  private sessionOpened = 0;
  private progressWarned = false;
  private readonly lastMetrics: Record<string, number> = {};

  /** The latest value of every metric emitted so far. */
  get latestMetrics(): Readonly<Record<string, number>> {
    return this.lastMetrics;
  }

  /** Names of the metrics this run's records can hold (val_* only with a validation split). */
  metricNames(): string[] {
    const names = ['loss', 'accuracy', 'samples_per_sec', 'lr', 'train_loss', 'train_accuracy'];
    return this.context && this.context.valSamples === 0 ? names : [...names, 'val_loss', 'val_accuracy'];
  }

  constructor(config: ResolvedConfig, options: TrainerOptions = {}) {
    this.config = config;
    this.plugins = options.plugins ?? [];
    this.logger = options.logger ?? consoleLogger;
    this.baseDir = options.baseDir ?? process.cwd();
    this.resumeFrom = options.resume;
    this.initFrom = options.initFrom;
    this.initOptimizer = options.initOptimizer ?? false;
    this.handleSignals = options.handleSignals ?? false;
    this.state = new TrainingState(config.seed);
    this.registerDataSource(syntheticSource);
    this.registerDataSource(shardsSource);
    this.hooks.log.tap('poke:trainer', (record) => Object.assign(this.lastMetrics, record.metrics));
    checkStateKeys(this.plugins);
    for (const plugin of this.plugins) {
      try {
        plugin.apply(this);
      } catch (err) {
        if (isUserError(err)) throw err;
        throw new UserError(`plugin ${plugin.name} failed in apply: ${(err as Error).message}`);
      }
    }
  }

  /** Make `data.source: name` available. Plugins call this from `apply`. */
  registerDataSource<O>(source: DataSource<O>): void {
    this.dataSources.set(source.name, source as DataSource<never>);
  }

  /** Ask the run to end after the current step; `done` then fires with status `interrupted`. */
  stop(reason = 'stop requested'): void {
    this.stopReason ??= reason;
  }

  get stopRequested(): boolean {
    return this.stopReason !== undefined;
  }

  /** The training state plus every plugin's `state()`: what a checkpoint stores besides tensors. */
  snapshot(): TrainingStateSnapshot {
    for (const plugin of this.plugins) {
      if (plugin.stateKey && plugin.state) this.state.plugins[plugin.stateKey] = plugin.state();
    }
    return this.state.snapshot();
  }

  /**
   * Train to the end (or until stopped). Resolves with the summary when the run
   * completed or was interrupted; rejects with the error after `done` fired with
   * status `failed`.
   */
  async run(): Promise<RunSummary> {
    const started = performance.now();
    const removeSignals = this.handleSignals ? this.installSignalHandlers() : () => {};
    let status: RunStatus = 'completed';
    let error: unknown;
    let setupStarted = false;
    let resumed: TrainingStateSnapshot | undefined;
    try {
      await this.prepare();
      // Resolved and verified before anything is written: a resume that fails leaves the run as it was.
      if (this.resumeTarget !== undefined) resumed = await this.resume();
      await this.startRun();
      setupStarted = true;
      await this.hooks.setup.promise(this.context!);
      if (resumed) await this.hooks.resumed.promise({ from: this.resumeTarget!, state: resumed });
      await this.loop();
      if (this.stopReason) status = 'interrupted';
    } catch (err) {
      status = 'failed';
      error = err;
    }
    // Signals stay handled through `done`: a second Ctrl-C while plugins finish aborts at once.
    try {
      if (setupStarted) await this.finish(status, error, started);
    } finally {
      removeSignals();
      this.claimed?.release();
    }
    status = this.summary?.status ?? status;
    error = this.summary?.error ?? error;
    if (status === 'failed') throw error;
    return this.summary!;
  }

  /** `done`, the final run.json, then `closed`; a `done` tap that fails turns a finished run into a failed one. */
  private async finish(status: RunStatus, error: unknown, started: number): Promise<void> {
    this.summary = this.makeSummary(status, error, started);
    try {
      await this.hooks.done.promise(this.summary);
    } catch (err) {
      if (status !== 'failed') this.summary = this.makeSummary('failed', err, started);
    }
    await this.writeStatus(this.summary.status, this.summary.error);
    try {
      await this.hooks.closed.promise(this.summary);
    } catch (err) {
      this.logger.warn((err as Error).message);
    }
  }

  /** Backend, data, model and the run folder's lock; writes nothing into an existing run. */
  private async prepare(): Promise<void> {
    const { config } = this;
    const backend = await selectBackend(config.train.backend);
    this.logger.info(`backend: ${backend.reason}`);
    this.built.dataset = await this.loadData();
    this.built.split = this.dataset.split?.(config.data.valFraction, config.seed) ?? splitIndices(this.dataset.size, config.data.valFraction, config.seed);
    if (this.split.train.length === 0) throw new UserError(`data: no training samples left after holding out valFraction ${config.data.valFraction}`);
    this.built.model = buildPolicy({
      featureSize: this.dataset.featureSize,
      actionCount: this.dataset.actionCount,
      ...config.model,
      seed: config.seed,
    });
    this.built.optimizer = new FlatAdam(config.train.learningRate);
    if (this.resumeFrom !== undefined) {
      await this.hooks.fetchRun.promise({ runsDir: resolve(this.baseDir, config.runsDir), runName: config.runName, resume: this.resumeFrom });
    }
    const mode = await this.claimMode();
    // Verified and loaded before the run folder exists: a refused --init-from leaves nothing behind.
    const parent = mode === 'resume' ? undefined : await this.initialize();
    const claimed = await claimRunDir(config, this.baseDir, mode);
    this.claimed = claimed;
    const kept = claimed.previous?.parent ?? parent;
    this.built.context = Object.freeze({
      config,
      runDir: claimed.runDir,
      runName: claimed.name,
      runId: claimed.previous?.id ?? randomUUID(),
      backend: backend.name,
      resume: this.resumeTarget,
      parameterCount: countParameters(this.model),
      trainSamples: this.split.train.length,
      valSamples: this.split.val.length,
      stepsPerEpoch: Math.ceil(this.split.train.length / config.train.batchSize),
      ...(kept ? { parent: kept } : {}),
    });
  }

  /** `--init-from`: the `init` hook loads another run's weights into the fresh model. */
  private async initialize(): Promise<RunParent | undefined> {
    if (this.initFrom === undefined) return undefined;
    const parent = await this.hooks.init.promise({
      from: this.initFrom,
      optimizer: this.initOptimizer,
      runsDir: resolve(this.baseDir, this.config.runsDir),
      baseDir: this.baseDir,
    });
    if (!parent) {
      throw new UserError(`--init-from ${this.initFrom}: no plugin could load it`, 'enable a checkpoint plugin (@poke/plugin-checkpoint), which reads checkpoints');
    }
    const from = parent.runName ? `run ${parent.runName}, ` : '';
    this.logger.info(`init: weights${parent.optimizer ? ' and optimizer state' : ''} from ${from}checkpoint ${parent.checkpoint} (${parent.path})`);
    return parent;
  }

  private async claimMode(): Promise<ClaimMode> {
    if (this.resumeFrom === undefined) return 'new';
    if (this.resumeFrom !== 'auto') {
      this.resumeTarget = this.resumeFrom;
      return 'resume';
    }
    const { mode, why } = await autoResumeMode(this.config, this.baseDir);
    this.logger.info(`resume auto: ${why}`);
    if (mode === 'resume') this.resumeTarget = 'latest';
    return mode;
  }

  /** The session's first writes: run.json and config.json. */
  private async startRun(): Promise<void> {
    const claimed = this.claimed!;
    this.info = await startRunInfo(claimed, this.config, {
      id: this.context!.runId,
      backend: this.context!.backend,
      ...optional('gitCommit', gitCommit(this.baseDir)),
      ...optional('parent', this.context!.parent),
    });
    this.sessionOpened = Date.now();
  }

  private async loadData(): Promise<Dataset> {
    const { data } = this.config;
    const source = this.dataSources.get(data.source);
    if (!source) {
      throw new UserError(
        `data.source "${data.source}" is not a known data source; known: ${[...this.dataSources.keys()].join(', ')}`,
        'a plugin may add sources (e.g. @poke/showdown adds "showdown")',
      );
    }
    const options = structuredClone(data) as Record<string, unknown>;
    validateWithSchema(source.schema, options, this.config.configFile ?? 'config', 'data');
    if (source.describe) this.logger.info(`data: ${source.describe(options as never)}`);
    const context = {
      seed: this.config.seed,
      baseDir: this.baseDir,
      cacheDir: join(resolve(this.baseDir, this.config.runsDir), '.cache'),
      progress: this.dataProgress(source.name),
      warn: (message: string) => this.logger.warn(message),
    };
    const dataset = await source.load(options as never, context);
    checkDataset(source.name, dataset);
    return dataset;
  }

  /** Hands a source's progress to the dataProgress hook, or logs it when nothing taps the hook. */
  private dataProgress(source: string): DataSourceContext['progress'] {
    const gate = throttle(1000);
    return (message, done, total) => {
      if (this.hooks.dataProgress.taps.length > 0) {
        this.hooks.dataProgress.call({ source, message, ...optional('done', done), ...optional('total', total) });
      } else if (done === undefined || total === undefined || gate(done >= total)) {
        this.logger.info(message);
      }
    };
  }

  /** Ask the `resume` hook for the state to continue from and restore it; nothing is written here. */
  private async resume(): Promise<TrainingStateSnapshot> {
    const answered = await this.hooks.resume.promise(this.context!);
    const snapshot = answered ?? this.freshStartForAuto();
    this.refuseLosingSteps(snapshot);
    this.state.restore(snapshot);
    const restored = new Set<string>();
    for (const plugin of this.plugins) {
      if (plugin.stateKey && plugin.restore && plugin.stateKey in this.state.plugins) {
        plugin.restore(this.state.plugins[plugin.stateKey]);
        restored.add(plugin.stateKey);
      }
    }
    for (const key of Object.keys(this.state.plugins)) {
      if (!restored.has(key)) this.logger.warn(`resume: saved state for "${key}" has no plugin to take it; ignored`);
    }
    this.logger.info(`resumed at epoch ${this.state.epoch + 1}, step ${this.state.globalStep}`);
    return this.state.snapshot();
  }

  /** With no checkpoint plugin, `--resume auto` may still start a run that never trained a step. */
  private freshStartForAuto(): TrainingStateSnapshot {
    if (this.resumeFrom === 'auto' && !(this.claimed!.previous?.progress?.globalStep)) return this.state.snapshot();
    throw new UserError(
      `--resume ${this.resumeFrom}: no plugin could restore the run`,
      'enable a checkpoint plugin (@poke/plugin-checkpoint) so that runs can be resumed',
    );
  }

  /** `auto` must never silently throw away trained steps that no checkpoint can bring back. */
  private refuseLosingSteps(snapshot: TrainingStateSnapshot): void {
    const trained = this.claimed!.previous?.progress?.globalStep ?? 0;
    if (this.resumeFrom !== 'auto' || snapshot.globalStep > 0 || trained === 0) return;
    throw new UserError(
      `--resume auto: ${this.context!.runDir} trained ${trained} steps but has no checkpoint to continue from; starting over would discard them`,
      'restart it from step 0 on purpose with --resume latest, or choose another --run-name',
    );
  }

  private async loop(): Promise<void> {
    const step = new StepRunner(this.model, this.optimizer, this.dataset.featureSize, this.dataset.actionCount, this.logger);
    const window = new MetricsWindow(this.state);
    try {
      while (this.state.epoch < this.config.train.epochs && !this.stopReason) {
        const epochStarted = performance.now();
        if (this.state.batch === 0) this.state.epochSums = { loss: 0, correct: 0, samples: 0 };
        await this.hooks.beforeEpoch.promise({
          epoch: this.state.epoch,
          globalStep: this.state.globalStep,
          stepsPerEpoch: this.context!.stepsPerEpoch,
        });
        const finished = await this.trainBatches(step, window);
        if (finished) await this.finishEpoch(step, window, epochStarted);
      }
    } finally {
      step.dispose();
    }
  }

  /** Train the rest of the current epoch; false when a stop was requested first. */
  private async trainBatches(step: StepRunner, window: MetricsWindow): Promise<boolean> {
    const { state, hooks } = this;
    const { batchSize, logEvery } = this.config.train;
    const { stepsPerEpoch } = this.context!;
    const train = this.split.train;
    const epoch = state.epoch;
    const order = this.dataset.epochOrder?.(train, this.config.seed, epoch) ?? epochOrder(train, this.config.seed, epoch);
    while (state.batch < stepsPerEpoch) {
      const from = state.batch * batchSize;
      const to = Math.min(from + batchSize, train.length);
      if (this.dataset.prepare) await this.dataset.prepare(order, from, to);
      const batch = this.dataset.gather(order.subarray(from, to));
      const { loss, correct } = step.train(batch, state.rng.nextInt32());
      const payload: StepEnd = {
        epoch,
        batch: state.batch,
        globalStep: state.globalStep + 1,
        loss,
        accuracy: correct / batch.size,
        batchSize: batch.size,
      };
      state.batch++;
      state.globalStep++;
      state.samplesSeen += batch.size;
      state.epochSums.loss += loss * batch.size;
      state.epochSums.correct += correct;
      state.epochSums.samples += batch.size;
      window.add(loss, correct, batch.size);
      // A step's record is emitted before plugins act on the step, so a checkpoint
      // never covers a step whose metrics were not logged. The last step of an
      // epoch is logged once, merged with the epoch's metrics.
      if (state.batch < stepsPerEpoch && state.globalStep % logEvery === 0) this.emit(epoch, window.take());
      if (hooks.afterStep.taps.length > 0) await hooks.afterStep.promise(payload);
      // Awaiting hooks runs only microtasks: signals, timers and sockets (trackers'
      // senders) get their turn here, every step, whatever plugins are tapped.
      await yieldToEventLoop();
      if (this.stopReason) return false;
    }
    return true;
  }

  /** afterEpoch, validation, the epoch's record, afterValidate; the cursor moves to the next epoch first. */
  private async finishEpoch(step: StepRunner, window: MetricsWindow, epochStarted: number): Promise<void> {
    const { state, hooks } = this;
    const epoch = state.epoch;
    const trainMetrics = {
      train_loss: state.epochSums.loss / state.epochSums.samples,
      train_accuracy: state.epochSums.correct / state.epochSums.samples,
    };
    await hooks.afterEpoch.promise({
      epoch,
      globalStep: state.globalStep,
      metrics: trainMetrics,
      seconds: (performance.now() - epochStarted) / 1000,
    });
    const { val } = this.split;
    const valMetrics = val.length > 0 ? await step.evaluate(this.dataset, val, Math.max(this.config.train.batchSize, 1024)) : {};
    // A checkpoint taken in afterValidate must resume at the next epoch.
    state.epoch++;
    state.batch = 0;
    state.epochSums = { loss: 0, correct: 0, samples: 0 };
    const metrics = { ...trainMetrics, ...valMetrics };
    this.emit(epoch, { ...window.take(), ...metrics });
    await hooks.afterValidate.promise({ epoch, globalStep: state.globalStep, metrics });
    await this.noteProgress();
  }

  /**
   * run.json follows the run epoch by epoch, so a killed session's time and progress
   * are not lost. Only informative: a full disk here must not end a run that
   * `onSaveError: "continue"` keeps going, so a failure is a warning, once.
   */
  private async noteProgress(): Promise<void> {
    try {
      await this.writeStatus('running', undefined);
    } catch (err) {
      if (!this.progressWarned) this.logger.warn(`run.json not updated: ${(err as Error).message}; training goes on`);
      this.progressWarned = true;
    }
  }

  private emit(epoch: number, metrics: Record<string, number>): void {
    this.hooks.log.call({
      step: this.state.globalStep,
      epoch,
      timestamp: new Date().toISOString(),
      metrics: { ...metrics, lr: this.config.train.learningRate },
    });
    this.state.lastLoggedStep = this.state.globalStep;
  }

  private makeSummary(status: RunStatus, error: unknown, started: number): RunSummary {
    return {
      status,
      runDir: this.context?.runDir ?? '',
      runName: this.context?.runName ?? '',
      epochs: this.state.epoch,
      globalStep: this.state.globalStep,
      samplesSeen: this.state.samplesSeen,
      seconds: (performance.now() - started) / 1000,
      finalMetrics: { ...this.lastMetrics },
      ...(error !== undefined ? { error } : {}),
    };
  }

  private async writeStatus(status: RunInfo['status'], error: unknown): Promise<void> {
    if (!this.info || !this.context) return;
    const { epoch, globalStep, samplesSeen } = this.state;
    const now = Date.now();
    const activeSeconds = Math.round((this.info.activeSeconds ?? 0) * 1000 + (now - this.sessionOpened)) / 1000;
    const info: RunInfo = { ...this.info, status, updatedAt: new Date(now).toISOString(), activeSeconds, progress: { epoch, globalStep, samplesSeen } };
    if (error !== undefined) info.error = error instanceof Error ? error.message : String(error);
    await writeRunInfo(this.context.runDir, info);
  }

  /** The event loop may not run again: say in run.json, synchronously, that the run was interrupted. */
  private markAborted(signal: string): void {
    if (!this.info || !this.context) return;
    const { epoch, globalStep, samplesSeen } = this.state;
    const info: RunInfo = { ...this.info, status: 'interrupted', updatedAt: new Date().toISOString(), progress: { epoch, globalStep, samplesSeen }, error: `aborted by a second ${signal}` };
    try {
      writeFileAtomicSync(runInfoPath(this.context.runDir), JSON.stringify(info, null, 2) + '\n');
    } catch (err) {
      this.logger.warn(`run.json not updated on abort: ${(err as Error).message}`);
    }
  }

  private installSignalHandlers(): () => void {
    let count = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      count++;
      if (count > 1) {
        // Every file poke writes is replaced atomically, so leaving now corrupts nothing.
        this.logger.warn(`${signal} again: aborting now`);
        this.markAborted(signal);
        process.exit(130);
      }
      this.logger.warn(`${signal}: stopping after the current step (press Ctrl-C again to abort at once)`);
      this.stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }
}

/** A checkpoint stores plugin states by key: a second plugin with the same key would overwrite the first's. */
function checkStateKeys(plugins: readonly PokePlugin[]): void {
  const owners = new Map<string, string>();
  for (const plugin of plugins) {
    if (!plugin.stateKey) continue;
    const owner = owners.get(plugin.stateKey);
    if (owner !== undefined) {
      throw new UserError(
        `plugins ${owner} and ${plugin.name} both use stateKey "${plugin.stateKey}"; a checkpoint would keep only one of their states`,
        'give each plugin its own stateKey (a plugin listed twice needs a distinct key per instance)',
      );
    }
    owners.set(plugin.stateKey, plugin.name);
  }
}

/** Every sample a source returns is checked: a plugin's NaN must not train silently. */
function checkDataset(source: string, dataset: Dataset): void {
  if (dataset.size === 0) throw new UserError(`data source "${source}" returned no samples`);
  const invalid = firstInvalidSample(dataset);
  if (invalid) {
    throw new UserError(
      `data source "${source}" returned an invalid sample ${invalid.index}: ${invalid.reason}`,
      'nothing was trained; fix the source or the files it reads',
    );
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
