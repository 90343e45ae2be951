import { openSync, writeSync, fsyncSync, closeSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { writeFileAtomicSync } from '@poke/core';
import type { MetricsRecord } from '@poke/core';

/** The columns every file starts with; metric columns follow in the order they first appeared. */
export const FIXED_COLUMNS = ['step', 'epoch', 'timestamp'] as const;

function cells(record: MetricsRecord, columns: readonly string[]): string[] {
  const m = record.metrics as Record<string, number>;
  return columns.map((c) => {
    const value = c === 'step' ? record.step : c === 'epoch' ? record.epoch : c === 'timestamp' ? record.timestamp : m[c];
    // String(n) is the shortest text that parses back to the identical double.
    return value === undefined ? '' : String(value);
  });
}

function format(rows: string[][]): string {
  return stringify(rows, { record_delimiter: '\n' });
}

/**
 * One CSV file of metrics, appended row by row with synchronous writes, so a
 * row is in the file before the trainer moves on (a checkpoint taken after a
 * step never covers a step whose row is missing). The header widens when a
 * record brings a new metric: the file is rewritten once, atomically.
 */
export class CsvFile {
  private fd: number | undefined;
  private columns: string[] = [...FIXED_COLUMNS];
  /** A new file gets its header with the first record, which names the first metric columns. */
  private headerWritten = false;
  private rowsSinceSync = 0;
  /** Full rewrites so far (widenings and resume truncations), for tests: there is none per row. */
  rewrites = 0;

  constructor(
    readonly path: string,
    private readonly flushEvery: number,
  ) {}

  get header(): readonly string[] {
    return this.columns;
  }

  /**
   * Open for append, never truncating: an existing file (a resumed run) keeps
   * its header and rows. A last line without its newline is a row a crash cut
   * short; it is dropped.
   */
  open(): void {
    // What an interrupted rewrite of this file left beside it.
    const base = basename(this.path);
    for (const name of readdirSync(dirname(this.path))) {
      if (name.startsWith(`.${base}.tmp-`)) rmSync(join(dirname(this.path), name), { force: true });
    }
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    if (text && !text.endsWith('\n')) writeFileAtomicSync(this.path, text.slice(0, text.lastIndexOf('\n') + 1));
    const rows = text ? this.readRows() : [];
    if (rows.length > 0) this.columns = rows[0]!;
    this.headerWritten = rows.length > 0;
    this.fd = openSync(this.path, 'a');
  }

  private readRows(): string[][] {
    const text = readFileSync(this.path, 'utf8');
    return parse(text, { relax_column_count: true }) as string[][];
  }

  write(record: MetricsRecord): void {
    const missing = Object.keys(record.metrics).filter((k) => !this.columns.includes(k));
    if (!this.headerWritten) {
      this.columns = [...this.columns, ...missing];
      this.headerWritten = true;
      this.append([this.columns, cells(record, this.columns)]);
      return;
    }
    if (missing.length > 0) this.rewrite((rows) => rows, [...this.columns, ...missing]);
    this.append([cells(record, this.columns)]);
  }

  /** Drop rows after `step`: the resumed run emits them again. Leaves the file alone when there are none. */
  truncateAfter(step: number): number {
    const rows = this.readRows().slice(1);
    const kept = rows.filter((r) => Number(r[0]) <= step);
    if (kept.length === rows.length) return 0;
    this.rewrite(() => kept, this.columns);
    return rows.length - kept.length;
  }

  /** Replace the file atomically with `transform(rows)` under `columns`, then reopen it for append. */
  private rewrite(transform: (rows: string[][]) => string[][], columns: string[]): void {
    const old = this.columns;
    const rows = transform(this.readRows().slice(1)).map((row) => columns.map((c) => row[old.indexOf(c)] ?? ''));
    this.closeFd();
    writeFileAtomicSync(this.path, format([columns, ...rows]));
    this.columns = columns;
    this.fd = openSync(this.path, 'a');
    this.rewrites++;
  }

  private append(rows: string[][]): void {
    const data = Buffer.from(format(rows));
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd!, data, offset, data.length - offset);
    if (++this.rowsSinceSync >= this.flushEvery) this.sync();
  }

  sync(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    this.rowsSinceSync = 0;
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  close(): void {
    this.closeFd();
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }
}
