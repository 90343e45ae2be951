import type { CompareRow } from './types.js';

/** A number for people: 4 decimals, big integers grouped, missing as "-". */
export function fmt(value: number | null, digits = 4): string {
  if (value === null) return '-';
  if (Number.isInteger(value) && Math.abs(value) >= 1000) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-4) ? value.toExponential(3) : value.toFixed(digits);
}

export function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}

/** A win rate means little without its opponent: "97.6% vs random". */
function winRateCell(value: number | null, opponent: string | null | undefined): string {
  return value === null || !opponent ? percent(value) : `${percent(value)} vs ${opponent}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

const STANDARD: Record<string, string> = { train_loss: 'train loss', val_loss: 'val loss', val_accuracy: 'val acc', win_rate: 'win rate' };

/**
 * The leaderboard as rows of cells. "from" (run@checkpoint a run was
 * fine-tuned from) appears only when some run has a parent; then one column per
 * config key that differs between the runs. A column for the ranking metric is added
 * when it is not a standard one; "win rate" appears only when some run has
 * an eval*.json. `key` is the index of the column that ranks.
 */
export function tableCells(rows: readonly CompareRow[]): { header: string[]; body: string[][]; key: number } {
  const metric = rows[0]?.metric ?? 'val_loss';
  const winRate = rows.some((r) => r.evals.length > 0) || metric === 'win_rate';
  const extra = !Object.hasOwn(STANDARD, metric);
  const lineage = rows.some((r) => r.parent);
  // Every row carries the same config keys: those that differ between the runs (or all, --all-params).
  const configKeys = Object.keys(rows[0]?.config ?? {});
  const header = ['#', 'run', ...(lineage ? ['from'] : []), ...configKeys, 'best checkpoint', 'epoch', 'step', 'train loss', 'val loss', 'val acc', ...(winRate ? ['win rate'] : []), ...(extra ? [metric] : []), 'params', 'wall', 'status'];
  const body = rows.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    r.name,
    ...(lineage ? [r.parent ? `${r.parent.run ?? r.parent.runId ?? '?'}@${r.parent.checkpoint}` : '-'] : []),
    ...configKeys.map((k) => r.config[k] ?? '-'),
    r.bestCheckpoint ?? '-',
    r.epoch === null ? '-' : String(r.epoch),
    r.step === null ? '-' : String(r.step),
    fmt(metric === 'train_loss' ? r.value : r.trainLoss),
    fmt(metric === 'val_loss' ? r.value : r.valLoss),
    fmt(metric === 'val_accuracy' ? r.value : r.valAccuracy),
    ...(winRate ? [winRateCell(metric === 'win_rate' ? r.value : r.winRate, r.winRateVs)] : []),
    ...(extra ? [fmt(r.value)] : []),
    r.parameters === null ? '-' : r.parameters.toLocaleString('en-US'),
    duration(r.wallSeconds),
    r.value === null ? `${r.status}: ${r.reason}` : r.status,
  ]);
  return { header, body, key: header.indexOf(Object.hasOwn(STANDARD, metric) ? STANDARD[metric]! : metric) };
}

/** Strip control characters (terminal escapes in run names come from disk). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function renderTable(rows: readonly CompareRow[]): string {
  if (rows.length === 0) return 'no runs';
  const { header, body } = tableCells(rows);
  const cells = body.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (c: string[]) => c.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const first = rows[0]!;
  return [`ranked by ${printable(first.metric)} (${first.mode}, best first)`, line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
