import { AsyncSeriesHook, AsyncSeriesBailHook, SyncHook } from 'tapable';
import { PluginError } from './errors.js';
import type { DataProgress, RunFetch, RunContext, EpochStart, StepEnd, EpochEnd, ValidationEnd, MetricsRecord, RunSummary, ResumeState, ResumedInfo, InitRequest, RunParent } from './types.js';

/**
 * Every hook of the trainer, in the order they fire.
 * One epoch: beforeEpoch → afterStep × n → afterEpoch → afterValidate.
 */
export interface TrainerHooks {
  /**
   * While the data source loads, before setup; may fire often. With no tap, the
   * trainer logs these events itself, at most one counted event a second.
   */
  readonly dataProgress: SyncHook<[DataProgress]>;
  /**
   * Once, with `--resume`, before the run folder is looked up: a plugin that keeps
   * runs elsewhere (object storage) brings the run's files into runsDir, so that
   * a machine with an empty folder continues the run.
   */
  readonly fetchRun: AsyncSeriesHook<[RunFetch]>;
  /** Once, before anything trains; plugins open files and connections. */
  readonly setup: AsyncSeriesHook<[RunContext]>;
  /**
   * Once, with `--init-from`, before the run folder is created: the first plugin
   * that loads the weights (and, when asked, the optimizer) answers with the parent.
   */
  readonly init: AsyncSeriesBailHook<[InitRequest], RunParent | undefined>;
  /** Once, when `--resume` is given; the first plugin that returns a state wins. */
  readonly resume: AsyncSeriesBailHook<[RunContext], ResumeState | undefined>;
  /**
   * After a resume restored the state. Loggers drop what they hold after
   * `state.lastLoggedStep`: those records are emitted again.
   */
  readonly resumed: AsyncSeriesHook<[ResumedInfo]>;
  /** Start of each epoch. */
  readonly beforeEpoch: AsyncSeriesHook<[EpochStart]>;
  /** After each optimizer step; not called at all when nothing is tapped. */
  readonly afterStep: AsyncSeriesHook<[StepEnd]>;
  /** End of an epoch's training pass, before validation. */
  readonly afterEpoch: AsyncSeriesHook<[EpochEnd]>;
  /** After each validation pass, with val metrics: where decisions on val metrics belong. */
  readonly afterValidate: AsyncSeriesHook<[ValidationEnd]>;
  /** Whenever the trainer emits metrics; loggers tap only this. */
  readonly log: SyncHook<[MetricsRecord]>;
  /** Once at the end, with status completed, interrupted or failed. */
  readonly done: AsyncSeriesHook<[RunSummary]>;
  /**
   * Once, after `done` and the final run.json: a plugin that copies the run folder
   * elsewhere copies its last state. The run's outcome is decided; a failing tap
   * is reported as a warning.
   */
  readonly closed: AsyncSeriesHook<[RunSummary]>;
}

export type HookName = keyof TrainerHooks;

export function createTrainerHooks(): TrainerHooks {
  const hooks: TrainerHooks = {
    dataProgress: new SyncHook<[DataProgress]>(['progress']),
    fetchRun: new AsyncSeriesHook<[RunFetch]>(['request']),
    setup: new AsyncSeriesHook<[RunContext]>(['context']),
    init: new AsyncSeriesBailHook<[InitRequest], RunParent | undefined>(['request']),
    resume: new AsyncSeriesBailHook<[RunContext], ResumeState | undefined>(['context']),
    resumed: new AsyncSeriesHook<[ResumedInfo]>(['resumed']),
    beforeEpoch: new AsyncSeriesHook<[EpochStart]>(['epoch']),
    afterStep: new AsyncSeriesHook<[StepEnd]>(['step']),
    afterEpoch: new AsyncSeriesHook<[EpochEnd]>(['epoch']),
    afterValidate: new AsyncSeriesHook<[ValidationEnd]>(['validation']),
    log: new SyncHook<[MetricsRecord]>(['record']),
    done: new AsyncSeriesHook<[RunSummary]>(['summary']),
    closed: new AsyncSeriesHook<[RunSummary]>(['summary']),
  };
  return Object.freeze(withNamedErrors(hooks));
}

/**
 * Make every tap of these hooks fail as `plugin <tap name> failed in <hook>: …`.
 * Plugins that publish hooks of their own (CheckpointPlugin.getHooks) use it too.
 */
export function withNamedErrors<T extends object>(hooks: T, prefix = ''): T {
  for (const [name, hook] of Object.entries(hooks)) {
    (hook as { intercept(i: { register: (tap: RegisteredTap) => RegisteredTap }): void }).intercept({
      register: (tap) => nameErrors(tap, prefix + name),
    });
  }
  return hooks;
}

/**
 * tapable rethrows a tap's error as is; wrap every tap once, when it registers,
 * so a failure reads `plugin poke:csv failed in afterStep: …`.
 */
interface RegisteredTap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: (...args: unknown[]) => unknown;
}

function nameErrors(t: RegisteredTap, hook: string): RegisteredTap {
  const fn = t.fn;
  const wrap = (err: unknown) => (err instanceof PluginError ? err : new PluginError(t.name, hook, err));
  if (t.type === 'promise') {
    t.fn = (...args: unknown[]) => {
      try {
        return Promise.resolve(fn(...args)).catch((err: unknown) => {
          throw wrap(err);
        });
      } catch (err) {
        return Promise.reject(wrap(err));
      }
    };
  } else if (t.type === 'async') {
    t.fn = (...args: unknown[]) => {
      const callback = args.pop() as (err?: unknown, result?: unknown) => void;
      try {
        fn(...args, (err?: unknown, result?: unknown) => callback(err ? wrap(err) : err, result));
      } catch (err) {
        callback(wrap(err));
      }
    };
  } else {
    t.fn = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (err) {
        throw wrap(err);
      }
    };
  }
  return t;
}
