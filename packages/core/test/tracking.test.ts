import { expect } from 'chai';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spool, readSpool, readProgress, writeProgress, SpoolSender, backoffMs } from '@poke/core/internal';
import type { Logger, SpoolLine } from '@poke/core';
import type { SenderOptions, SpoolProgress } from '@poke/core/internal';
import { batchEntries } from '../src/tracking/batches.js';
import { tempDir } from './helpers.js';

interface Entry {
  n: number;
}

interface Progress extends SpoolProgress {
  /** Entries the fake server has: checks that `advance` is applied once per batch. */
  count: number;
}

interface Batch {
  entries: Entry[];
  end: number;
}

const NOTHING: Progress = Object.freeze({ offset: 0, count: 0 });

class Outage extends Error {}

function recordingLogger(): Logger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, info: (m) => infos.push(m), warn: (m) => warnings.push(m) };
}

/** A tracker whose server fails the next `failures` requests with an outage, and refuses what `refuse` picks. */
class FakeSender extends SpoolSender<Entry, Progress, Batch> {
  readonly received: number[] = [];
  private failures: number;
  private readonly refuse: (batch: Batch) => boolean;
  private onReceive = () => {};

  constructor(spool: Spool<Entry>, progress: Progress, logger: Logger, options: Partial<SenderOptions> & { failures?: number; refuse?: (batch: Batch) => boolean } = {}) {
    super(spool, join(spool.dir, 'delivered.json'), progress, logger, { label: 'fake', syncCommand: 'poke fake sync', flushIntervalMs: 0, ...options });
    this.failures = options.failures ?? 0;
    this.refuse = options.refuse ?? (() => false);
  }

  /** Resolves once the server has `count` entries: lets a test watch the sender in the background, not draining. */
  until(count: number): Promise<void> {
    return new Promise<void>((resolve) => (this.onReceive = () => this.received.length >= count && resolve()));
  }

  protected get target(): string {
    return 'http://fake';
  }

  protected async prepare(): Promise<void> {}

  // Two entries a request, so a batch boundary falls inside every read.
  protected batches(lines: SpoolLine<Entry>[]): Batch[] {
    const out: Batch[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const part = lines.slice(i, i + 2);
      out.push({ entries: part.map((l) => l.entry), end: part.at(-1)!.end });
    }
    return out;
  }

  protected async send(batch: Batch): Promise<void> {
    if (this.refuse(batch)) throw new Error('refused');
    if (this.failures > 0) {
      this.failures--;
      throw new Outage('connection refused');
    }
    this.received.push(...batch.entries.map((e) => e.n));
    this.onReceive();
  }

  protected advance(progress: Progress, batch: Batch): Progress {
    return { ...progress, count: progress.count + batch.entries.length };
  }

  protected retryable(err: unknown): boolean {
    return err instanceof Outage;
  }
}

/** Pauses that return at once, and the lengths asked for: backoff without waiting, and without timing assertions. */
function instantSleep(): { sleep: (ms: number) => Promise<void>; asked: number[] } {
  const asked: number[] = [];
  return { asked, sleep: async (ms: number) => void asked.push(ms) };
}

async function spoolWith(count: number): Promise<Spool<Entry>> {
  const spool = new Spool<Entry>(join(await tempDir('tracking'), 'tracker'), 'spool.jsonl');
  for (let n = 1; n <= count; n++) spool.append({ n });
  return spool;
}

describe('tracker spool', () => {
  it('reads back what was appended, each entry with the offset just past its line', async () => {
    const spool = await spoolWith(3);
    const lines = await spool.read(0);
    expect(lines.map((l) => l.entry)).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(lines.at(-1)!.end).to.equal(spool.size);
    expect((await spool.read(lines[0]!.end)).map((l) => l.entry.n)).to.deep.equal([2, 3]);
    spool.close();
  });

  it('leaves out a last line a crash cut short, and drops it on reopen so the next append is not lost', async () => {
    const spool = await spoolWith(2);
    spool.close();
    const whole = readFileSync(spool.path).length;
    appendFileSync(spool.path, '{"n":3');
    expect((await readSpool<Entry>(spool.path, 0)).map((l) => l.entry.n)).to.deep.equal([1, 2]);
    const reopened = new Spool<Entry>(spool.dir, 'spool.jsonl');
    expect(reopened.size).to.equal(whole);
    reopened.append({ n: 4 });
    reopened.append({ n: 5 });
    expect((await reopened.read(0)).map((l) => l.entry.n)).to.deep.equal([1, 2, 4, 5]);
    reopened.close();
  });

  it('a file that is one torn line, longer than a read chunk, reopens empty', async () => {
    const dir = await tempDir('tracking-torn');
    appendFileSync(join(dir, 'spool.jsonl'), '{"n":"' + 'x'.repeat(200_000));
    const spool = new Spool<Entry>(dir, 'spool.jsonl');
    expect(spool.size).to.equal(0);
    spool.append({ n: 1 });
    expect((await spool.read(0)).map((l) => l.entry.n)).to.deep.equal([1]);
    spool.close();
  });

  it('tryAppend reports the first failed append once and appends nothing after it', async () => {
    const spool = await spoolWith(1);
    const failures: string[] = [];
    expect(spool.tryAppend({ n: 2 }, (e) => failures.push(e.message))).to.equal(true);
    spool.close();
    expect(spool.tryAppend({ n: 3 }, (e) => failures.push(e.message))).to.equal(false);
    expect(spool.tryAppend({ n: 4 }, (e) => failures.push(e.message))).to.equal(false);
    expect(failures).to.deep.equal(['spool is closed']);
    expect((await readSpool<Entry>(spool.path, 0)).map((l) => l.entry.n)).to.deep.equal([1, 2]);
  });

  it('rewrites only the undelivered tail', async () => {
    const spool = await spoolWith(4);
    const [first] = await spool.read(0);
    expect(await spool.rewriteTail(first!.end, (e) => e.n !== 3)).to.equal(1);
    spool.append({ n: 6 });
    expect((await spool.read(0)).map((l) => l.entry.n)).to.deep.equal([1, 2, 4, 6]);
    spool.close();
  });

  it('keeps saved progress across a reopen; a missing file is nothing delivered, a damaged one an error', async () => {
    const dir = await tempDir('tracking-progress');
    const path = join(dir, 'delivered.json');
    expect(await readProgress(path, NOTHING)).to.deep.equal(NOTHING);
    await writeProgress(path, { offset: 42, count: 3 } as Progress);
    expect(await readProgress(path, NOTHING)).to.deep.equal({ offset: 42, count: 3 });
    appendFileSync(path, '}');
    let error: unknown;
    await readProgress(path, NOTHING).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.include('is damaged');
  });
});

describe('tracker sender', () => {
  it('retries an outage with growing backoff, warns once, then delivers each entry once', async () => {
    const spool = await spoolWith(5);
    const { sleep, asked } = instantSleep();
    const logger = recordingLogger();
    const sender = new FakeSender(spool, { ...NOTHING }, logger, { failures: 2, sleep, random: () => 1 });
    const delivered = sender.until(5);
    sender.start();
    await delivered;
    const { pending, lastError } = await sender.flush(60_000);
    spool.close();
    expect(sender.received).to.deep.equal([1, 2, 3, 4, 5]);
    expect(pending).to.deep.equal([]);
    expect(lastError).to.equal(undefined);
    // random() = 1 takes the whole cap: 0.5 s doubled per attempt.
    expect(asked).to.deep.equal([1000, 2000]);
    expect(logger.warnings).to.have.length(1);
    expect(logger.warnings[0]).to.include('cannot reach http://fake').and.include(spool.path);
    expect(logger.infos).to.deep.equal(['fake: http://fake reachable again; delivery resumed']);
    expect(await readProgress(sender.progressPath, NOTHING)).to.deep.equal({ offset: spool.size, count: 5 });
  });

  it('stops at a refusal with the rest pending; a later sender resumes from the saved offset and sends nothing twice', async () => {
    const spool = await spoolWith(6);
    const progressPath = join(spool.dir, 'delivered.json');
    const { sleep } = instantSleep();
    const logger = recordingLogger();
    const first = new FakeSender(spool, await readProgress(progressPath, NOTHING), logger, { sleep, refuse: (batch) => batch.entries.some((e) => e.n === 3) });
    const stuck = await first.flush(60_000);
    spool.close();
    expect(first.received).to.deep.equal([1, 2]);
    expect(stuck.pending.map((l) => l.entry.n)).to.deep.equal([3, 4, 5, 6]);
    expect(stuck.lastError).to.equal('refused');
    expect(logger.warnings).to.have.length(1);
    expect(logger.warnings[0]).to.include('delivery stopped').and.include('poke fake sync');

    const reopened = new Spool<Entry>(spool.dir, 'spool.jsonl');
    const saved = await readProgress(progressPath, NOTHING);
    expect(saved.count).to.equal(2);
    const second = new FakeSender(reopened, saved, recordingLogger(), { sleep });
    expect((await second.flush(60_000)).pending).to.deep.equal([]);
    reopened.close();
    expect(second.received).to.deep.equal([3, 4, 5, 6]);
    expect(await readProgress(progressPath, NOTHING)).to.deep.equal({ offset: reopened.size, count: 6 });
  });

  it('starts the first round at once and then one round per flush interval: what is appended during a round waits for the next', async () => {
    const spool = await spoolWith(2);
    const asked: Array<{ ms: number; received: number }> = [];
    let appended = false;
    // the run logs on while the first request is in flight
    const sender: FakeSender = new FakeSender(spool, { ...NOTHING }, recordingLogger(), {
      sleep: async (ms) => void asked.push({ ms, received: sender.received.length }),
      flushIntervalMs: 60_000,
      refuse: () => {
        if (!appended) spool.append({ n: 3 });
        appended = true;
        return false;
      },
    });
    const delivered = sender.until(3);
    sender.start();
    sender.notify();
    await delivered;
    await sender.stop();
    spool.close();
    expect(sender.received).to.deep.equal([1, 2, 3]);
    // no pause before the first round; entry 3 waited for the rest of the interval, after entries 1 and 2 were sent
    expect(asked).to.have.length(1);
    expect(asked[0]!.received).to.equal(2);
    expect(asked[0]!.ms).to.be.greaterThan(0).and.at.most(60_000);
  });

  it('backs off with full jitter under a cap that doubles up to the maximum, and at most 1 s while draining', () => {
    expect(backoffMs(1, 30_000, false, () => 1)).to.equal(1000);
    expect(backoffMs(3, 30_000, false, () => 1)).to.equal(4000);
    expect(backoffMs(10, 30_000, false, () => 1)).to.equal(30_000);
    expect(backoffMs(10, 30_000, true, () => 1)).to.equal(1000);
    expect(backoffMs(1, 30_000, false, () => 0)).to.equal(50);
  });
});

describe('tracker batching', () => {
  type E = { step?: number; size?: number; streamed?: boolean; name: string };
  const lines = (...entries: E[]) => entries.map((entry, i) => ({ entry, end: (i + 1) * 10 }));
  const rules = { stepOf: (e: E) => e.step, streamed: (e: E) => e.streamed === true, size: (e: E) => e.size ?? 1 };

  it('puts consecutive records (and what streams with them) in one request, and every other entry alone', () => {
    const units = batchEntries(lines({ name: 'run' }, { step: 1, name: 'a' }, { streamed: true, name: 's' }, { step: 2, name: 'b' }, { name: 'end' }), { ...rules, highest: -1, maxSize: 10 });
    expect(units.map((u) => (u.kind === 'batch' ? u.entries.map((e) => e.name) : u.kind === 'single' ? u.entry.name : u.kind))).to.deep.equal(['run', ['a', 's', 'b'], 'end']);
    expect(units.map((u) => u.end)).to.deep.equal([10, 40, 50]);
  });

  it('skips records at or below the highest step the server has, counting them in the request they fall in', () => {
    const units = batchEntries(lines({ step: 1, name: 'a' }, { step: 3, name: 'b' }, { step: 2, name: 'c' }, { step: 4, name: 'd' }), { ...rules, highest: 1, maxSize: 10 });
    expect(units).to.deep.equal([
      { kind: 'skip', skipped: 1, end: 10 },
      { kind: 'batch', entries: [{ step: 3, name: 'b' }, { step: 4, name: 'd' }], skipped: 1, end: 40 },
    ]);
  });

  it('closes a request before it would pass maxSize; an entry larger than it goes alone; passed entries send nothing', () => {
    const units = batchEntries(lines({ step: 1, size: 6, name: 'a' }, { step: 2, size: 6, name: 'b' }, { step: 3, size: 20, name: 'c' }, { name: 'old' }), {
      ...rules,
      highest: -1,
      maxSize: 10,
      passed: (_e, end) => end <= 40,
    });
    expect(units.map((u) => (u.kind === 'batch' ? u.entries.map((e) => e.name) : u.kind))).to.deep.equal([['a'], ['b'], ['c'], 'skip']);
    expect(units.at(-1)).to.deep.equal({ kind: 'skip', skipped: 0, end: 40 });
  });
});
