import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import getFolderSize from 'get-folder-size';
import type { DoctorItem } from './item.js';

/** poke's cache outside any clone: the native backend's venv and addon, the MLflow venv. */
export function cacheRoot(): string {
  return resolve(process.env.POKE_CACHE_DIR || join(homedir(), '.cache', 'poke'));
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

async function sized(name: string, path: string, what: string): Promise<DoctorItem> {
  if (!existsSync(path)) return { name, ok: true, detail: `${path}: empty (${what})`, data: { path, exists: false, bytes: 0 } };
  const bytes = await getFolderSize.loose(path);
  return { name, ok: true, detail: `${path}: ${formatBytes(bytes)} (${what})`, data: { path, exists: true, bytes } };
}

const KNOWN: Record<string, string> = {
  'tfjs-node': 'the native backend: TensorFlow wheel venv and compiled addons',
  'mlflow-venv': 'MLflow for the plugin-mlflow tests',
  'tensorboard-venv': 'TensorBoard for the plugin-tensorboard tests',
};

/** The cache root, each folder in it, and the demonstrations cache of ./runs. */
export async function cacheItems(cwd: string): Promise<DoctorItem[]> {
  const root = cacheRoot();
  const what = 'POKE_CACHE_DIR, default ~/.cache/poke';
  if (!existsSync(root)) return [{ name: 'cache', ok: true, detail: `${root}: empty (${what})`, data: { path: root, exists: false, bytes: 0 } }];
  // Each folder is walked once; the root's total is their sum plus the files beside them.
  const folders: DoctorItem[] = [];
  let total = 0;
  for (const entry of readdirSync(root).sort()) {
    const path = join(root, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) {
      total += stat?.size ?? 0;
      continue;
    }
    const item = await sized(`cache.${entry}`, path, KNOWN[entry] ?? 'cache folder');
    total += (item.data?.bytes as number) ?? 0;
    folders.push(item);
  }
  const items: DoctorItem[] = [{ name: 'cache', ok: true, detail: `${root}: ${formatBytes(total)} (${what})`, data: { path: root, exists: true, bytes: total } }, ...folders];
  const runsCache = join(cwd, 'runs', '.cache');
  if (existsSync(runsCache)) items.push(await sized('cache.runs', runsCache, 'generated demonstrations, per project'));
  return items;
}
