import type { Logger } from '../logger.js';
import type { Spool, SpoolLine } from './spool.js';
import { writeProgress } from './progress.js';
import type { SpoolProgress } from './progress.js';

/** One request's worth of entries. */
export interface SpoolBatch {
  /** Byte offset just past the batch's last entry. */
  end: number;
}

export interface SenderOptions {
  /** Prefix of every message, e.g. "mlflow sync". */
  label: string;
  /** The command that sends what is left, named when delivery stops. */
  syncCommand: string;
  /**
   * A round of requests starts at most once per this interval, so steps go in
   * batches; the first round starts at once (a token bucket of one, as W&B's SDK
   * paces file_stream). @default 1000
   */
  flushIntervalMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxBackoffMs?: number;
  /** A pause that `wake` cuts short; tests pass one that returns at once. */
  sleep?: (ms: number, wake: Promise<void>) => Promise<void>;
  /** For the backoff's jitter. @default Math.random */
  random?: () => number;
}

export interface FlushResult<E> {
  /** Entries still undelivered. */
  pending: SpoolLine<E>[];
  /** Why delivery is stuck, when it is. */
  lastError: string | undefined;
}

function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]).finally(() => clearTimeout(timer));
}

/** Full jitter over a cap that doubles from 0.5 s: clients that lost the same server do not come back in step. */
export function backoffMs(attempt: number, maxBackoffMs: number, urgent: boolean, random: () => number): number {
  const cap = Math.min(maxBackoffMs, 500 * 2 ** Math.min(attempt, 20));
  // While draining at the end of a run, a long pause would eat the whole finish timeout.
  return Math.max(50, random() * (urgent ? Math.min(cap, 1000) : cap));
}

/**
 * Sends a spool to a server in the background, in order: reads from the
 * delivered offset, hands batches to the tracker's `send`, and saves the
 * progress atomically after every request, so a restart or a `sync` sends
 * nothing twice. Retries outages with backoff; the spool keeps everything
 * meanwhile. A tracker plugin subclasses it with what its entries mean to its server.
 */
export abstract class SpoolSender<E, P extends SpoolProgress, B extends SpoolBatch> {
  private readonly abort = new AbortController();
  /** Aborted by stop(): give it to the client, so that an unfinished request is abandoned. */
  protected readonly signal: AbortSignal = this.abort.signal;
  private readonly flushIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number, wake: Promise<void>) => Promise<void>;
  private readonly random: () => number;
  private loopPromise: Promise<void> | undefined;
  private wakeResolve: () => void = () => {};
  private wakePromise: Promise<void>;
  private hurryResolve: () => void = () => {};
  /** Resolves when flush() or stop() wants everything now: cuts the gathering pause short. */
  private readonly hurry = new Promise<void>((resolve) => (this.hurryResolve = resolve));
  private stoppingResolve: () => void = () => {};
  /** Resolves when stop() is called: cuts a backoff pause short. */
  private readonly stopping = new Promise<void>((resolve) => (this.stoppingResolve = resolve));
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  private urgent = false;
  private outage: string | undefined;
  private attempt = 0;
  /** performance.now() when the last round of requests began. */
  private lastRound = -Infinity;
  private fatal: string | undefined;
  private lastError: string | undefined;

  constructor(
    readonly spool: Spool<E>,
    /** Where the progress is saved. */
    readonly progressPath: string,
    /** What the server has; a subclass may raise it when the server says it has more. */
    public delivered: P,
    protected readonly logger: Logger,
    private readonly options: SenderOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
    this.wakePromise = this.newWake();
  }

  /** Prefix of every message, e.g. "mlflow sync". */
  protected get label(): string {
    return this.options.label;
  }

  get pendingBytes(): number {
    return this.spool.size - this.delivered.offset;
  }

  /** Something was appended: send it (after the flush interval). */
  notify(): void {
    this.wakeResolve();
  }

  start(): void {
    this.loopPromise ??= this.loop();
  }

  /** Deliver everything now, for at most `timeoutMs`; then stop. */
  async flush(timeoutMs: number): Promise<FlushResult<E>> {
    this.urgent = true;
    this.hurryResolve();
    this.start();
    this.notify();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.stop();
    return { pending: await this.spool.read(this.delivered.offset, Number.MAX_SAFE_INTEGER), lastError: this.fatal ?? this.lastError };
  }

  /** Stop at once: an unfinished request is abandoned, and sent again by whoever sends next. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.hurryResolve();
    this.stoppingResolve();
    this.abort.abort();
    this.notify();
    await this.loopPromise;
  }

  /** The server as messages name it, without credentials. */
  protected abstract get target(): string;

  /** Before each round of sending: create the remote run, ask what the server already has. */
  protected abstract prepare(): Promise<void>;

  /** Group entries into requests, in spool order; entries the server has may become a batch that sends nothing. */
  protected abstract batches(entries: SpoolLine<E>[]): B[];

  protected abstract send(batch: B): Promise<void>;

  /** The progress once the server has `batch`, apart from the offset, which the sender sets to `batch.end`. */
  protected abstract advance(progress: P, batch: B): P;

  /** An outage (no connection, a timeout, 429, 5xx) is retried; anything else stops delivery until a `sync`. */
  protected abstract retryable(err: unknown): boolean;

  private newWake(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeResolve = resolve));
  }

  private settleIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async loop(): Promise<void> {
    const { label } = this.options;
    while (!this.stopped) {
      if (this.fatal || this.pendingBytes <= 0) {
        this.settleIdle();
        await this.wakePromise;
        this.wakePromise = this.newWake();
        continue;
      }
      const wait = this.lastRound + this.flushIntervalMs - performance.now();
      if (!this.urgent && wait > 0 && this.attempt === 0) {
        await this.sleep(wait, this.hurry);
        if (this.stopped) break;
      }
      this.lastRound = performance.now();
      try {
        await this.deliverAvailable();
        if (this.outage) this.logger.info(`${label}: ${this.target} reachable again; delivery resumed`);
        this.outage = undefined;
        this.lastError = undefined;
        this.attempt = 0;
      } catch (err) {
        if (this.stopped) break;
        this.failed(err);
        if (!this.fatal) await this.sleep(backoffMs(this.attempt, this.maxBackoffMs, this.urgent, this.random), this.stopping);
      }
    }
    this.settleIdle();
  }

  /** An outage is retried, with one warning when it starts rather than one per retry; anything else stops delivery. */
  private failed(err: unknown): void {
    const { label, syncCommand } = this.options;
    const message = (err as Error).message;
    this.lastError = message;
    if (this.retryable(err)) {
      if (!this.outage) {
        this.logger.warn(`${label}: cannot reach ${this.target} (${message}); records are kept in ${this.spool.path} and retried with backoff, training goes on`);
      }
      this.outage = message;
      this.attempt++;
    } else {
      this.fatal = message;
      this.logger.warn(`${label}: delivery stopped: ${message}; records stay in ${this.spool.path} (send them later with \`${syncCommand}\`)`);
    }
  }

  /** One round: what the spool held when it began (entries appended meanwhile wait for the next round, unless read with them). */
  private async deliverAvailable(): Promise<void> {
    const until = this.spool.size;
    await this.prepare();
    while (!this.stopped && this.delivered.offset < until) {
      const entries = await this.spool.read(this.delivered.offset);
      if (entries.length === 0) return; // only a partial line (being written, or cut by a crash): nothing to send yet
      for (const batch of this.batches(entries)) {
        if (this.stopped) return;
        await this.send(batch);
        this.delivered = { ...this.advance(this.delivered, batch), offset: batch.end };
        await writeProgress(this.progressPath, this.delivered);
      }
    }
  }
}
