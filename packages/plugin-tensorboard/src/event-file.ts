/**
 * One event file of one attempt of a run, and the trim a resume does on the
 * files of earlier attempts.
 */
import { openSync, writeSync, fsyncSync, closeSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError, describeDiskError } from '@poke/core';
import { writeFileAtomicSync } from '@poke/core/internal';
import { frameRecord, scanRecords } from './tfrecord.js';
import { encodeEvent, fileVersionEvent, SESSION_START_TAG, SESSION_END_TAG } from './summaries.js';
import type { EventObject } from './summaries.js';
import { EventType } from './proto.js';

/** TensorBoard reads every file of a folder whose name holds this. */
export const EVENT_FILE_MARK = '.tfevents.';

export function eventFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.startsWith('events.out.tfevents.')).sort();
  } catch {
    return [];
  }
}

/**
 * TensorFlow's name, `events.out.tfevents.<seconds>.<host>.<pid>.<n>`. Readers take a
 * folder's files in name order, so a new attempt's file must sort after the earlier
 * ones even within the same second: the seconds are raised past the last file's.
 */
function newFileName(dir: string): string {
  let seconds = Math.floor(Date.now() / 1000);
  const name = (s: number) => `events.out.tfevents.${String(s).padStart(10, '0')}.${hostname().replace(/[^A-Za-z0-9-]/g, '_')}.${process.pid}.0.v2`;
  const last = eventFiles(dir).at(-1);
  while (last && name(seconds) <= last) seconds++;
  return name(seconds);
}

/** A full or read-only disk is the environment, not a bug: one clear line, as the CSV plugin says it. */
function diskError(err: unknown, path: string): unknown {
  const disk = describeDiskError(err);
  if (!disk) return err;
  return new UserError(`cannot write ${path}: ${disk}; the events written before are intact`, 'free some space and continue with --resume');
}

/**
 * Events are framed as they come and kept in memory; `flush()` hands them to the
 * kernel in one write (no fsync), `close()` flushes and fsyncs. After a failed write
 * the file takes nothing more, so the error is reported once.
 */
export class EventFile {
  readonly path: string;
  private fd: number | undefined;
  private chunks: Buffer[] = [];
  private failed = false;
  /** Tags whose summary metadata this file already holds. */
  readonly described = new Set<string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, newFileName(dir));
    this.fd = openSync(this.path, 'a');
    this.append(fileVersionEvent(Date.now() / 1000));
  }

  append(event: EventObject): void {
    if (this.failed) return;
    this.chunks.push(frameRecord(encodeEvent(event)));
  }

  get pendingBytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  flush(): void {
    if (this.failed || this.fd === undefined || this.chunks.length === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.fd, data, written);
    } catch (err) {
      this.failed = true;
      throw diskError(err, this.path);
    }
  }

  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      this.flush();
      if (!this.failed) fsyncSync(fd);
    } catch (err) {
      if (this.failed) throw err;
      this.failed = true;
      throw diskError(err, this.path);
    } finally {
      this.fd = undefined;
      closeSync(fd);
    }
  }
}

export interface TrimResult {
  readonly file: string;
  /** Events removed: after `lastStep`, and the HParams session records a new attempt writes again. */
  readonly dropped: number;
  /** Bytes after the last whole record (a record a crash cut short). */
  readonly cutBytes: number;
}

/**
 * Rewrites, atomically, each event file of `dir` (but `except`) that holds events
 * after `lastStep`, the HParams session start or end, or a record a crash cut short.
 * What a resumed run emits again is then in no earlier file, whichever reader opens
 * the folder; the new file's SessionLog START says the same to readers that honour it.
 */
export function trimEventFiles(dir: string, lastStep: number, except?: string): TrimResult[] {
  const results: TrimResult[] = [];
  for (const name of eventFiles(dir)) {
    const path = join(dir, name);
    if (path === except) continue;
    const bytes = readFileSync(path);
    const { records, validBytes } = scanRecords(bytes);
    const kept = records.filter((data) => keep(data, lastStep));
    const dropped = records.length - kept.length;
    const cutBytes = bytes.length - validBytes;
    if (dropped === 0 && cutBytes === 0) continue;
    writeFileAtomicSync(path, Buffer.concat(kept.map(frameRecord)));
    results.push({ file: path, dropped, cutBytes });
  }
  return results;
}

function keep(data: Buffer, lastStep: number): boolean {
  const event = EventType.decode(data) as unknown as { step: number | { toNumber(): number }; file_version?: string; summary?: { value: { tag: string }[] } };
  if (event.file_version) return true;
  const step = typeof event.step === 'number' ? event.step : event.step.toNumber();
  if (step > lastStep) return false;
  return !event.summary?.value.some((v) => v.tag === SESSION_START_TAG || v.tag === SESSION_END_TAG);
}
