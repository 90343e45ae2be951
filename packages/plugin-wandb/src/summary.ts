import { inferMode, isBetter } from '@poke/core';
import type { MetricsRecord, MonitorMode, RunSummary } from '@poke/core';
import { spoolNumber } from './wandb-json.js';

/** The direction a metric's name states (the core's rule: loss → min, accuracy → max); metrics that state none have no best. */
export function bestDirection(metric: string): MonitorMode | undefined {
  return inferMode(metric);
}

/** What the summary is built from, and what a checkpoint keeps (`stateKey` wandb). */
export interface PluginState {
  best: Record<string, { value: number; step: number }>;
  last: Record<string, number>;
  /** The highest step logged, the summary's `_step`. */
  step?: number;
}

/** Last and best value of every metric, and the highest step: what the summary shows and a checkpoint keeps. */
export function track(tracked: PluginState, record: MetricsRecord): void {
  const { best, last } = tracked;
  tracked.step = Math.max(tracked.step ?? -1, record.step);
  for (const [name, value] of Object.entries(record.metrics)) {
    last[name] = value;
    const direction = bestDirection(name);
    if (!direction || !Number.isFinite(value)) continue;
    const previous = best[name];
    if (!previous || isBetter(value, previous.value, direction)) best[name] = { value, step: record.step };
  }
}

/** The summary W&B shows: final metrics, best ones (`best/<metric>`, `best/<metric>_step`), step and runtime. */
export function summaryOf(tracked: PluginState, summary: RunSummary, runtime: (now?: number) => number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...jsonMetrics({ ...tracked.last, ...summary.finalMetrics }) };
  for (const [name, { value, step }] of Object.entries(tracked.best)) {
    out[`best/${name}`] = value;
    out[`best/${name}_step`] = step;
  }
  const now = Date.now();
  // The last step logged, as the SDK's summary has it: a resuming SDK starts at the step after it.
  out._step = tracked.step ?? summary.globalStep;
  out._runtime = runtime(now);
  out._timestamp = now / 1000;
  // The SDK's whole seconds, which its resume reads first
  out._wandb = { runtime: Math.round(runtime(now)) };
  out['poke/status'] = summary.status;
  return out;
}

/** Plain JSON, which the spool is, has no NaN or Infinity: the spool names them, and the sender writes W&B's bare tokens (wandb-json.ts). */
export function jsonMetrics(metrics: Readonly<Record<string, number>>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(metrics)) out[key] = spoolNumber(value);
  return out;
}
