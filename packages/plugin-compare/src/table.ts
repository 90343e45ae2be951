import type { CompareRow } from './types.js';

export function fmt(value: number | null, digits = 4): string {
  return value === null ? '-' : Number.isInteger(value) && Math.abs(value) >= 1000 ? value.toLocaleString('en-US') : value.toFixed(digits);
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** The leaderboard as rows of cells; the header names the ranking metric when it is not a standard column. */
export function tableCells(rows: readonly CompareRow[]): { header: string[]; body: string[][] } {
  const metric = rows[0]?.metric ?? 'val_loss';
  const extra = !['train_loss', 'val_loss', 'val_accuracy'].includes(metric);
  const header = ['#', 'run', 'best checkpoint', 'epoch', 'step', 'train loss', 'val loss', 'val acc', ...(extra ? [metric] : []), 'params', 'wall', 'status'];
  const body = rows.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    r.name,
    r.bestCheckpoint ?? '-',
    r.epoch === null ? '-' : String(r.epoch),
    r.step === null ? '-' : String(r.step),
    fmt(r.trainLoss),
    fmt(r.valLoss),
    fmt(r.valAccuracy),
    ...(extra ? [fmt(r.value)] : []),
    r.parameters === null ? '-' : r.parameters.toLocaleString('en-US'),
    duration(r.wallSeconds),
    r.value === null ? `${r.status}: ${r.reason}` : r.status,
  ]);
  return { header, body };
}

export function renderTable(rows: readonly CompareRow[]): string {
  const { header, body } = tableCells(rows);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const metric = rows[0] ? `${rows[0].metric} (${rows[0].mode}, best first)` : '';
  return [`ranked by ${metric}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
