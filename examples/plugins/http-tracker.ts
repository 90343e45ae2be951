/**
 * A complete third tracker: POSTs metrics records, in batches, as a JSON array to
 * one URL. All it defines is what an entry is and how a batch goes over the
 * wire; the spool, the background sender, outages, resume, the finish timeout,
 * the warnings and `sync` are @poke/core's (`trackerPlugin`).
 * Use it as `plugins: [['./plugins/http-tracker.ts', { url: 'http://127.0.0.1:8080/records' }]]`.
 */
import { TrackerDelivery, registerSyncCommand, syncTracker, trackerFiles, trackerPlugin } from '@poke/core';
import type { Logger, PokePlugin, Spool, SyncCommandContext, CommandLike, TrackerDeliveryOptions, TrackerProgress, TrackerStats } from '@poke/core';

/** What the tracker sends: one JSON line each in runs/<run>/http/spool.jsonl. */
export type Entry = { t: 'metrics'; step: number; metrics: Record<string, number> } | { t: 'end'; status: string };

/** runs/<run>/http/run.json: where this run's records go. */
interface RunFile {
  url: string;
}

const FILES = trackerFiles<Entry, RunFile, TrackerProgress>({
  id: 'http', // the folder in the run folder, message prefix, and `poke http sync`
  spool: 'spool.jsonl',
  run: 'run.json',
  progress: 'delivered.json',
  nothing: { offset: 0, step: -1 },
});

class HttpError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

interface Stats extends TrackerStats {
  requests: number;
}

/** How a batch goes over the wire. */
class Delivery extends TrackerDelivery<Entry, TrackerProgress, Stats> {
  readonly stats: Stats = { skipped: 0, requests: 0 };

  static async open(dir: string, spool: Spool<Entry>, run: RunFile, logger: Logger, options: TrackerDeliveryOptions = {}): Promise<Delivery> {
    return new Delivery(dir, spool, run.url, await FILES.startingProgress(dir, spool, logger), logger, options);
  }

  private constructor(dir: string, spool: Spool<Entry>, private readonly url: string, delivered: TrackerProgress, logger: Logger, options: TrackerDeliveryOptions) {
    super(dir, spool, FILES.names, delivered, logger, options);
  }

  get target(): string {
    return this.url;
  }

  /** Before each round: create the remote run, or ask the server for its highest step (a lost answer). Nothing here. */
  protected async prepare(): Promise<void> {}

  protected stepOf(entry: Entry): number | undefined {
    return entry.t === 'metrics' ? entry.step : undefined;
  }

  protected batchRules() {
    return { maxSize: 100 }; // records per request
  }

  protected sendBatch(entries: Entry[]): Promise<void> {
    return this.post(entries);
  }

  protected sendEntry(entry: Entry): Promise<void> {
    return this.post([entry]);
  }

  /** No connection, 429 and 5xx are retried; anything else stops delivery until a `sync`. */
  protected retryable(err: unknown): boolean {
    return !(err instanceof HttpError) || err.retryable;
  }

  private async post(entries: Entry[]): Promise<void> {
    const response = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entries), signal: this.signal });
    if (!response.ok) throw new HttpError(`HTTP ${response.status}`, response.status === 429 || response.status >= 500);
    this.stats.requests++;
  }
}

export default function httpTracker(options: { url: string }): PokePlugin {
  return trackerPlugin<Entry, RunFile, TrackerProgress, Delivery>({
    name: 'example:http-tracker',
    title: 'HTTP tracker',
    files: FILES,
    finishTimeout: 10,
    records: 'metric records',
    continues: (run) => run.url === options.url,
    runFile: (_context, existing) => existing ?? { url: options.url },
    describe: (run) => run.url,
    start: async ({ dir, spool, run, trainer }) => ({ delivery: await Delivery.open(dir, spool, run, trainer.logger, { flushIntervalMs: 100 }), entries: [] }),
    record: ({ step, metrics }) => ({ t: 'metrics', step, metrics: { ...metrics } }),
    keepOnResume: (entry, lastLoggedStep) => entry.t !== 'metrics' || entry.step <= lastLoggedStep,
    closing: (summary) => [{ t: 'end', status: summary.status }],
  });
}

/** `poke http sync RUN_DIR`: what a package lists under `poke.commands` in its package.json. */
export function registerHttpSync(program: CommandLike, context: SyncCommandContext): void {
  registerSyncCommand(program, context, {
    id: 'http',
    description: 'the HTTP tracker',
    syncDescription: "send a run's undelivered records",
    sync: (runDir, _flags: object, { logger, timeoutMs }) => syncRun(runDir, logger, timeoutMs),
    report: ({ requests }) => `sent ${requests} requests`,
  });
}

/** Send what a run's spool holds beyond delivered.json, with the run folder locked. */
export async function syncRun(runDir: string, logger: Logger, timeoutMs?: number): Promise<{ requests: number; pending: number; error: string | undefined }> {
  const { delivery, result } = await syncTracker(
    runDir,
    { files: FILES, title: 'HTTP tracker', packageName: 'poke-plugin-http', open: (dir, spool, run, label) => Delivery.open(dir, spool, run, logger, { label, flushIntervalMs: 0 }) },
    timeoutMs,
  );
  return { requests: delivery.stats.requests, pending: result.pendingEntries, error: result.lastError };
}
