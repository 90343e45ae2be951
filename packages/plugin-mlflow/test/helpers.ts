import type { MetricsRecord } from '@poke/core';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';
import { trackerRunFile } from '../../core/test/tracker-helpers.js';
import { MlflowClient } from '@poke/plugin-mlflow';

export { makeTrainer, smallConfig, tempDir };
export { recordingLogger, collectRecords, readJson, trainer } from '../../core/test/tracker-helpers.js';

export function runFileOf(dir: string, run: string): Promise<any> {
  return trackerRunFile(dir, run, 'mlflow');
}

/** Every leaf of config.json as MLflow params should hold it: dotted keys, JSON text for non-strings. */
export function expectedParams(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: unknown, path: string[]) => {
    if (node && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length) {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
    } else out[path.join('.')] = typeof node === 'string' ? node : JSON.stringify(node);
  };
  walk(config, []);
  return out;
}

/**
 * The run's metric history as step → metrics, failing when any (metric, step)
 * pair was logged more than once.
 */
export async function historyByStep(client: MlflowClient, runId: string, keys: string[]): Promise<Map<number, Record<string, number>>> {
  const byStep = new Map<number, Record<string, number>>();
  for (const key of keys) {
    for (const m of await client.getMetricHistory(runId, key)) {
      const step = Number(m.step);
      const row = byStep.get(step) ?? {};
      if (key in row) throw new Error(`metric ${key} has step ${step} more than once`);
      row[key] = typeof m.value === 'string' ? Number(m.value) : m.value;
      byStep.set(step, row);
    }
  }
  return byStep;
}

/** The records as the same map (later records for a step would replace earlier ones; there are none). */
export function recordsByStep(records: readonly MetricsRecord[]): Map<number, Record<string, number>> {
  return new Map(records.map((r) => [r.step, { ...r.metrics }]));
}

export function metricKeys(records: readonly MetricsRecord[]): string[] {
  return [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
}

export function sorted<T>(map: Map<number, T>): Array<[number, T]> {
  return [...map.entries()].sort((a, b) => a[0] - b[0]);
}

