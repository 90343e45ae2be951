import { openSync, writeSync, fsyncSync, closeSync, readFileSync, existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { UserError } from '@poke/core';
import { writeFileAtomicSync, ATOMIC_TEMP_PATTERN } from '@poke/core/internal';
import type { MetricsRecord } from '@poke/core';

/** The columns every file starts with; metric columns follow in the order they first appeared. */
export const FIXED_COLUMNS = ['step', 'epoch', 'timestamp'] as const;

/** What a CsvFile did to the disk, so tests can check that the cost of a row does not grow with the file. */
export interface CsvFileStats {
  /** Whole-file replacements: one per widening, one per resume that removed rows. */
  rewrites: number;
  /** Whole-file reads after open: only to widen or to remove rows. */
  reads: number;
  fsyncs: number;
}

function cellOf(record: MetricsRecord, column: string): string {
  const value = column === 'step' ? record.step : column === 'epoch' ? record.epoch : column === 'timestamp' ? record.timestamp : record.metrics[column];
  if (value === undefined) return '';
  // String(n) is the shortest text that parses back to the identical double, except for -0.
  return Object.is(value, -0) ? '-0' : String(value);
}

function rowOf(record: MetricsRecord, columns: readonly string[]): string[] {
  return columns.map((column) => cellOf(record, column));
}

/** Metric names of `record` the header lacks, in the record's order. */
function newColumns(columns: readonly string[], record: MetricsRecord): string[] {
  return Object.keys(record.metrics).filter((key) => !columns.includes(key));
}

/** csv-stringify quotes per RFC 4180: fields with a comma, a quote or a line break. */
function format(rows: readonly (readonly string[])[]): string {
  return stringify(rows as string[][], { record_delimiter: '\n' });
}

function parseRows(text: string): string[][] {
  return parse(text, { relax_column_count: true }) as string[][];
}

function parses(text: string): boolean {
  try {
    parseRows(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The longest prefix of `text` made of whole records. Every row is written
 * with its newline, so what follows the last one that parses is a row a crash
 * cut short (possibly inside a quoted field, hence the parse check).
 */
function wholeRecords(text: string): string {
  let end = text.endsWith('\n') ? text.length : text.lastIndexOf('\n') + 1;
  while (end > 0 && !parses(text.slice(0, end))) end = end >= 2 ? text.lastIndexOf('\n', end - 2) + 1 : 0;
  return text.slice(0, end);
}

/** What an interrupted rewrite of `path` left beside it. */
function removeLeftovers(path: string): void {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.tmp-`;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && ATOMIC_TEMP_PATTERN.test(name)) rmSync(join(dir, name), { force: true, recursive: true });
  }
}

/**
 * One CSV file of metrics. Rows are appended with synchronous writes, so a row
 * is in the file before the trainer moves on: a checkpoint taken after a step
 * never covers a step whose row is missing. Only a new column or a resume
 * rewrites the whole file, atomically; a row never does.
 */
export class CsvFile {
  private fd: number | undefined;
  private columns: string[] = [...FIXED_COLUMNS];
  /** A new file gets its header with the first record, which names the first metric columns. */
  private hasHeader = false;
  private unsynced = 0;
  readonly stats: CsvFileStats = { rewrites: 0, reads: 0, fsyncs: 0 };

  constructor(
    readonly path: string,
    private readonly flushEvery = 1,
  ) {}

  get header(): readonly string[] {
    return this.columns;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Open for append, never truncating: an existing file (a resumed run) keeps its header and rows. */
  open(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    removeLeftovers(this.path);
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    const whole = wholeRecords(text);
    if (whole.length < text.length) writeFileAtomicSync(this.path, whole);
    const header = parseRows(whole)[0];
    if (header) this.adoptHeader(header);
    this.fd = openSync(this.path, 'a');
  }

  private adoptHeader(header: string[]): void {
    if (FIXED_COLUMNS.some((column, i) => header[i] !== column)) {
      throw new UserError(`${this.path} is not a metrics file: its header must start with ${FIXED_COLUMNS.join(',')}`, 'choose another path, or move the file away');
    }
    this.columns = header;
    this.hasHeader = true;
  }

  write(record: MetricsRecord): void {
    const added = newColumns(this.columns, record);
    if (!this.hasHeader) {
      this.columns.push(...added);
      this.hasHeader = true;
      this.append([this.columns, rowOf(record, this.columns)]);
    } else {
      if (added.length > 0) this.replace([...this.columns, ...added], this.readRows());
      this.append([rowOf(record, this.columns)]);
    }
    if (++this.unsynced >= this.flushEvery) this.sync();
  }

  /**
   * Remove the rows after `step` (the resumed run emits them again) and return
   * how many. The file is left as it is when there are none.
   */
  truncateAfter(step: number): number {
    if (!this.hasHeader) return 0;
    const rows = this.readRows();
    const kept = rows.filter((row) => Number(row[0]) <= step);
    if (kept.length < rows.length) this.replace(this.columns, kept);
    return rows.length - kept.length;
  }

  /** The data rows, cells in header order. */
  private readRows(): string[][] {
    this.stats.reads++;
    if (!existsSync(this.path)) return [];
    return parseRows(readFileSync(this.path, 'utf8')).slice(1);
  }

  /**
   * Replace the file with `rows` under `columns`, atomically (a crash leaves
   * the old file or the new one), then reopen it for append. A new column goes
   * at the end, so the old cells keep their places and new ones are empty.
   */
  private replace(columns: string[], rows: string[][]): void {
    const width = columns.length;
    const padded = rows.map((row) => Array.from({ length: width }, (_, i) => row[i] ?? ''));
    // The rename replaces the old file: syncing it first would be wasted.
    this.release();
    writeFileAtomicSync(this.path, format([columns, ...padded]));
    this.stats.rewrites++;
    this.columns = columns;
    this.unsynced = 0;
    this.fd = openSync(this.path, 'a');
  }

  private append(rows: string[][]): void {
    const data = Buffer.from(format(rows));
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd!, data, offset, data.length - offset);
  }

  /** fsync what was appended since the last sync. */
  sync(): void {
    if (this.fd === undefined || this.unsynced === 0) return;
    fsyncSync(this.fd);
    this.stats.fsyncs++;
    this.unsynced = 0;
  }

  private release(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** fsync and close; safe to call twice. */
  close(): void {
    try {
      this.sync();
    } finally {
      this.release();
    }
  }
}
