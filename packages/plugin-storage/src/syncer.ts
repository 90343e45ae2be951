import type { Logger } from '@poke/core';
import { describe, isPermanent } from './errors.js';

const MAX_RETRY_MS = 5 * 60_000;

export type SyncOutcome = { ok: true } | { ok: false; error: unknown };

/**
 * Runs `pass` in the background, one at a time: a request while a pass runs
 * makes one more pass after it. A failed pass is reported (once per distinct
 * cause, and again when it recovers) and retried after a wait that doubles.
 * The caller never waits, except in drain().
 */
export class Syncer {
  private running: Promise<SyncOutcome> | undefined;
  private again = false;
  private failures = 0;
  private lastProblem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  /** Ask for a pass soon; returns at once. */
  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** The last pass's failure, if the server is behind. */
  get behind(): string | undefined {
    return this.lastProblem;
  }

  /**
   * Stop retrying in the background and make the last pass, retrying failed
   * ones `retries` more times; resolves with how it went.
   */
  async drain(retries: number): Promise<SyncOutcome> {
    this.closed = true;
    clearTimeout(this.timer);
    let outcome = this.running ? await this.running : await this.once();
    if (outcome.ok) outcome = await this.once();
    // Waits of their own, not the run's backoff: after an hour of outage that would be minutes.
    for (let i = 0; !outcome.ok && !isPermanent(outcome.error) && i < retries; i++) {
      await new Promise((r) => setTimeout(r, this.retryMs * 2 ** i));
      outcome = await this.once();
    }
    return outcome;
  }

  private async loop(): Promise<SyncOutcome> {
    let outcome: SyncOutcome;
    do {
      this.again = false;
      outcome = await this.once();
    } while (this.again && outcome.ok && !this.closed);
    this.running = undefined;
    if (!outcome.ok && !this.closed) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.request(), this.delay());
      this.timer.unref();
    }
    return outcome;
  }

  private async once(): Promise<SyncOutcome> {
    try {
      await this.pass();
      if (this.lastProblem !== undefined) this.logger.info(`storage: caught up after ${this.failures} failed ${this.failures === 1 ? 'try' : 'tries'}`);
      this.failures = 0;
      this.lastProblem = undefined;
      return { ok: true };
    } catch (error) {
      this.failures++;
      const problem = describe(error);
      if (problem !== this.lastProblem) {
        this.logger.warn(`storage: upload failed (${problem}); training goes on, retrying in ${Math.round(this.delay() / 1000)} s`);
      }
      this.lastProblem = problem;
      return { ok: false, error };
    }
  }

  /** The wait before the next try: retryMs, doubled per failure in a row, at most 5 minutes. */
  private delay(): number {
    return Math.min(this.retryMs * 2 ** Math.max(0, this.failures - 1), MAX_RETRY_MS);
  }
}
