import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeJsonAtomic, removeAtomicLeftovers } from '../util/atomic.js';
import { redactSecrets } from '../util/redact.js';
import { versions } from '../util/versions.js';
import { UserError } from '../errors.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { RunStatus } from '../types.js';
import { lockRunDir } from './lock.js';

export interface RunInfo {
  id: string;
  name: string;
  status: 'running' | RunStatus;
  createdAt: string;
  updatedAt: string;
  versions: { poke: string; tfjs: string; node: string };
  backend: string;
  gitCommit?: string;
  /** How many times the run was resumed. */
  resumes: number;
  /**
   * Seconds the trainer held the run folder, summed over sessions, up to the
   * last status write (each epoch's end and the end of a session): unlike
   * createdAt → updatedAt, the time a run sat interrupted is not in it.
   */
  activeSeconds?: number;
  /** Where the run stood when its status was last written. */
  progress?: { epoch: number; globalStep: number; samplesSeen: number };
  error?: string;
}

export function defaultRunName(now = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-');
  return `run-${iso.slice(0, 15)}`;
}

/** The run folder `name` should get: a fresh one gets a numeric suffix instead of clobbering another run. */
export async function freeRunName(runsDir: string, name: string): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? name : `${name}-${i}`;
    const exists = await stat(join(runsDir, candidate)).then(
      () => true,
      () => false,
    );
    if (!exists) return candidate;
  }
}

/** The most recently updated run under `runsDir`, for `--resume` without a run name. */
export async function latestRun(runsDir: string): Promise<string | undefined> {
  const entries = await readdir(runsDir, { withFileTypes: true }).catch(() => []);
  let best: { name: string; time: number } | undefined;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const info = await readRunInfo(join(runsDir, entry.name)).catch(() => undefined);
    if (!info) continue;
    const time = Date.parse(info.updatedAt);
    if (!best || time > best.time) best = { name: entry.name, time };
  }
  return best?.name;
}

export async function readRunInfo(runDir: string): Promise<RunInfo> {
  return JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunInfo;
}

export async function writeRunInfo(runDir: string, info: RunInfo): Promise<void> {
  await writeJsonAtomic(join(runDir, 'run.json'), info);
}

/** The resolved config as stored in config.json: secrets redacted, plugins by name. */
export function configForDisk(config: ResolvedConfig): Record<string, unknown> {
  const plugins = config.plugins.map((p) =>
    typeof p === 'string' ? p : Array.isArray(p) ? [p[0], p[1] ?? {}] : (p as { name: string }).name,
  );
  return redactSecrets({ ...config, plugins });
}

/**
 * Create (or, when resuming, reopen) runs/<name>/ and write run.json and config.json.
 * A new run never reuses an existing folder; a resumed one must exist.
 */
export async function openRunDir(
  config: ResolvedConfig,
  baseDir: string,
  options: { resume: boolean; backend: string; gitCommit?: string },
): Promise<{ runDir: string; info: RunInfo; release: () => void }> {
  const runsDir = resolve(baseDir, config.runsDir);
  const now = new Date().toISOString();
  if (options.resume) {
    const name = config.runName ?? (await latestRun(runsDir));
    if (!name) throw new UserError(`--resume: no run to resume in ${runsDir}`, 'name one with --run-name');
    const runDir = join(runsDir, name);
    const previous = await readRunInfo(runDir).catch(() => {
      throw new UserError(`--resume: ${runDir} is not a poke run (no readable run.json)`);
    });
    const release = lockRunDir(runDir);
    await removeAtomicLeftovers(runDir);
    const info: RunInfo = {
      ...previous,
      status: 'running',
      updatedAt: now,
      versions: versions(),
      backend: options.backend,
      resumes: (previous.resumes ?? 0) + 1,
      ...(options.gitCommit ? { gitCommit: options.gitCommit } : {}),
    };
    delete info.error;
    await writeRunInfo(runDir, info);
    await writeJsonAtomic(join(runDir, 'config.json'), configForDisk(config));
    return { runDir, info, release };
  }
  if (config.runName) {
    const exists = await stat(join(runsDir, config.runName)).then(() => true, () => false);
    if (exists) {
      throw new UserError(
        `run folder ${join(runsDir, config.runName)} already exists`,
        'continue it with --resume, or choose another --run-name',
      );
    }
  }
  const name = config.runName ?? (await freeRunName(runsDir, defaultRunName()));
  const runDir = join(runsDir, name);
  await mkdir(runDir, { recursive: true });
  const release = lockRunDir(runDir);
  const info: RunInfo = {
    id: randomUUID(),
    name,
    status: 'running',
    createdAt: now,
    updatedAt: now,
    versions: versions(),
    backend: options.backend,
    resumes: 0,
    ...(options.gitCommit ? { gitCommit: options.gitCommit } : {}),
  };
  await writeRunInfo(runDir, info);
  await writeJsonAtomic(join(runDir, 'config.json'), configForDisk(config));
  return { runDir, info, release };
}
