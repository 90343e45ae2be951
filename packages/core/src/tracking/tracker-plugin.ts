import type { Trainer } from '../trainer.js';
import type { PokePlugin } from '../plugins/types.js';
import type { MetricsRecord, RunContext, RunSummary } from '../types.js';
import type { Spool } from './spool.js';
import type { TrackerFiles } from './files.js';
import type { TrackerDelivery, TrackerProgress, TrackerStats } from './delivery.js';

/** One attempt of a run, as a tracker sees it when it starts. */
export interface TrackerRun<E, R> {
  readonly trainer: Trainer;
  readonly context: RunContext;
  /** The tracker's folder, runs/<run>/<id>. */
  readonly dir: string;
  /** run.json of this attempt, already written. */
  readonly run: R;
  /** This attempt goes on with the remote run of an earlier one. */
  readonly continued: boolean;
  readonly spool: Spool<E>;
  /** Add an entry to the spool and wake the sender. */
  append(entry: E): void;
}

/** What a tracker opened for an attempt. */
export interface TrackerStart<E, D> {
  /** Sends while training; undefined when entries only wait in the spool for `poke <id> sync` (offline, no credentials). */
  delivery: D | undefined;
  /** What every attempt sends first: the run and its config, params, tags. */
  entries: E[];
  /** Starts what appends on its own (a timer, console capture), once `entries` are in the spool; returns what stops it, at `done`. */
  watch?: () => () => void;
}

/** What makes one tracker: the rest of its plugin (spool, sender, resume, finish, warnings) is `trackerPlugin`'s. */
export interface TrackerDefinition<E, R, P extends TrackerProgress, D extends TrackerDelivery<E, P, TrackerStats>> {
  /** Namespaced plugin name, `poke:wandb`. */
  name: string;
  /** The service as messages name it, `W&B`. */
  title: string;
  files: TrackerFiles<E, R, P>;
  /** Seconds `done` may spend delivering what is left; the rest stays in the spool. */
  finishTimeout: number;
  /** What records are called when some were not delivered, `history rows`. */
  records: string;
  /** Whether these options still log to the remote run recorded in run.json by an earlier attempt. */
  continues(existing: R): boolean;
  /** run.json of this attempt: the recorded run brought up to date, or (when there is none to continue) a new remote run. */
  runFile(context: RunContext, existing: R | undefined): R;
  /** A run file as messages name it, `poke-user/poke/abcd1234 at https://api.wandb.ai`. */
  describe(run: R): string;
  /** Open the delivery, and say what to send first. */
  start(run: TrackerRun<E, R>): Promise<TrackerStart<E, D>>;
  /** A metrics record as a spool entry. */
  record(record: MetricsRecord): E;
  /** Whether an undelivered entry stays when a resume goes back to `lastLoggedStep`: the resumed run emits later records again. */
  keepOnResume(entry: E, lastLoggedStep: number): boolean;
  /** The entries that end a run: a summary, the exit state. */
  closing(summary: RunSummary): E[];
  /** Taps of the tracker's own, in `apply` (MLflow's checkpoint uploads); `append` adds to the spool while it is open. */
  tap?(trainer: Trainer, append: (entry: E) => void): void;
}

/**
 * A tracker plugin (`{ name, apply }`) from what makes the tracker. Every entry
 * goes to the spool first and is sent in the background, so training never
 * waits for the server and an outage loses nothing. A tracker never fails a
 * run: a setup, a trim on resume or a finish that fails is one warning, and
 * training goes on.
 */
export function trackerPlugin<E, R, P extends TrackerProgress, D extends TrackerDelivery<E, P, TrackerStats>>(
  definition: TrackerDefinition<E, R, P, D>,
): PokePlugin {
  const { name } = definition;
  return {
    name,
    apply(trainer: Trainer): void {
      const session = new TrackerSession(trainer, definition);
      const { hooks } = trainer;
      hooks.setup.tapPromise(name, (context) => session.setup(context));
      hooks.resumed.tapPromise(name, ({ state }) => session.resumed(state.lastLoggedStep));
      // log is synchronous: one append to the spool; the background sender does the rest.
      hooks.log.tap(name, (record) => session.log(record));
      hooks.done.tapPromise(name, (summary) => session.finish(summary));
      definition.tap?.(trainer, (entry) => session.append(entry));
    },
  };
}

/** The life of one run's spool and sender, from `setup` to `done`. */
class TrackerSession<E, R, P extends TrackerProgress, D extends TrackerDelivery<E, P, TrackerStats>> {
  private dir = '';
  private spool: Spool<E> | undefined;
  private delivery: D | undefined;
  private stop: (() => void) | undefined;

  constructor(
    private readonly trainer: Trainer,
    private readonly definition: TrackerDefinition<E, R, P, D>,
  ) {}

  private get id(): string {
    return this.definition.files.names.id;
  }

  async setup(context: RunContext): Promise<void> {
    try {
      await this.open(context);
    } catch (err) {
      this.stop?.();
      this.spool?.close();
      this.spool = undefined;
      this.delivery = undefined;
      this.trainer.logger.warn(`${this.id}: cannot set up ${this.definition.title} logging (${(err as Error).message}); training goes on without it`);
    }
  }

  /** Continue the remote run in run.json when the options still point at it; otherwise start a new one, to which the whole spool goes. */
  private async open(context: RunContext): Promise<void> {
    const { definition, trainer } = this;
    const { files } = definition;
    const dir = (this.dir = files.dir(context.runDir));
    const existing = await files.readRunFile(dir);
    const continued = existing !== undefined && definition.continues(existing);
    const run = definition.runFile(context, continued ? existing : undefined);
    if (existing && !continued) {
      trainer.logger.warn(
        `${this.id}: this run was logged as ${definition.describe(existing)}; ` +
          `it now goes to a new ${definition.title} run, ${definition.describe(run)}, with the whole spool sent again`,
      );
      await files.writeProgress(dir, files.names.nothing);
    }
    await files.writeRunFile(dir, run);
    const spool = (this.spool = new files.Spool(dir));
    const started = await definition.start({ trainer, context, dir, run, continued, spool, append: (entry) => this.append(entry) });
    this.delivery = started.delivery;
    for (const entry of started.entries) this.append(entry);
    this.stop = started.watch?.();
    // When resuming, start sending only once `resumed` has trimmed what the resumed run emits again.
    if (context.resume === undefined) this.delivery?.start();
  }

  /** Records after lastLoggedStep are emitted again: drop the undelivered ones the tracker says go (delivered ones are skipped by step). */
  async resumed(lastLoggedStep: number): Promise<void> {
    const { spool } = this;
    if (!spool) return;
    try {
      const delivered = this.delivery?.delivered ?? (await this.definition.files.readProgress(this.dir));
      const dropped = await spool.rewriteTail(delivered.offset, (entry) => this.definition.keepOnResume(entry, lastLoggedStep));
      if (dropped) this.trainer.logger.info(`${this.id}: dropped ${dropped} undelivered entries after step ${lastLoggedStep}; the resumed run emits them again`);
    } catch (err) {
      this.trainer.logger.warn(`${this.id}: cannot trim ${spool.path} (${(err as Error).message}); records after step ${lastLoggedStep} may be sent twice`);
    }
    this.delivery?.start();
  }

  log(record: MetricsRecord): void {
    if (this.spool) this.append(this.definition.record(record));
  }

  append(entry: E): void {
    const { spool } = this;
    const appended = spool?.tryAppend(entry, (err) =>
      this.trainer.logger.warn(`${this.id}: cannot write ${spool.path} (${err.message}); nothing more is sent to ${this.definition.title} in this run`),
    );
    if (appended) this.delivery?.notify();
  }

  /** The closing entries, then at most finishTimeout of delivery; what is left stays in the spool, with one warning naming the sync command. */
  async finish(summary: RunSummary): Promise<void> {
    const { spool, delivery, definition } = this;
    if (!spool) return;
    this.stop?.();
    this.stop = undefined;
    try {
      for (const entry of definition.closing(summary)) this.append(entry);
      if (!delivery) return;
      const result = await delivery.drain(definition.finishTimeout * 1000);
      if (result.pendingEntries > 0) {
        const other = result.pendingEntries - result.pendingRecords;
        this.trainer.logger.warn(
          `${this.id}: ${result.pendingRecords} ${definition.records}${other ? ` and ${other} other entries` : ''} were not delivered to ${delivery.target}` +
            `${result.lastError ? ` (${result.lastError})` : ''}; they are kept in ${spool.path}: send them with \`poke ${this.id} sync ${summary.runDir}\``,
        );
      }
    } catch (err) {
      this.trainer.logger.warn(`${this.id}: finishing failed: ${(err as Error).message}; the spool is kept in ${spool.path}`);
    } finally {
      spool.close();
      this.spool = undefined;
    }
  }
}
