import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeJsonAtomic, removeAtomicLeftovers, ATOMIC_TEMP_PATTERN } from '../util/atomic.js';
import { redactSecrets } from '../util/redact.js';
import { versions } from '../util/versions.js';
import { UserError } from '../errors.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { RunParent, RunStatus } from '../types.js';
import { lockRunDir, LOCK_FILE } from './lock.js';

export interface RunInfo {
  id: string;
  name: string;
  status: 'running' | RunStatus;
  createdAt: string;
  updatedAt: string;
  versions: { poke: string; tfjs: string; node: string };
  backend: string;
  gitCommit?: string;
  /** The run and checkpoint this run's weights started from (`--init-from`). */
  parent?: RunParent;
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

export function runInfoPath(runDir: string): string {
  return join(runDir, 'run.json');
}

export async function readRunInfo(runDir: string): Promise<RunInfo> {
  return JSON.parse(await readFile(runInfoPath(runDir), 'utf8')) as RunInfo;
}

export async function writeRunInfo(runDir: string, info: RunInfo): Promise<void> {
  await writeJsonAtomic(runInfoPath(runDir), info);
}

/** The resolved config as stored in config.json: secrets redacted, plugins by name. */
export function configForDisk(config: ResolvedConfig): Record<string, unknown> {
  const plugins = config.plugins.map((p) =>
    typeof p === 'string' ? p : Array.isArray(p) ? [p[0], p[1] ?? {}] : (p as { name: string }).name,
  );
  return redactSecrets({ ...config, plugins });
}

/** How a session takes its run folder: a new run, a resume, or a new run in a folder a start-up crash left without run.json. */
export type ClaimMode = 'new' | 'resume' | 'reuse';

/** A run folder this process holds the lock of; nothing in it has been written yet. */
export interface ClaimedRun {
  readonly runDir: string;
  readonly name: string;
  /** run.json as this session found it; undefined for a new run. */
  readonly previous: RunInfo | undefined;
  readonly release: () => void;
}

/**
 * Find (resume) or create (new) runs/<name>/ and take its lock, writing nothing
 * else: whatever is checked after this (a checkpoint to resume from) can still
 * fail and leave an existing run exactly as it was.
 */
export async function claimRunDir(config: ResolvedConfig, baseDir: string, mode: ClaimMode): Promise<ClaimedRun> {
  const runsDir = resolve(baseDir, config.runsDir);
  if (mode === 'resume') {
    const name = config.runName ?? (await latestRun(runsDir));
    if (!name) throw new UserError(`--resume: no run to resume in ${runsDir}`, 'name one with --run-name, or use --resume auto to start it when it is missing');
    const runDir = join(runsDir, name);
    const previous = await readRunInfo(runDir).catch(() => {
      throw new UserError(`--resume: ${runDir} is not a poke run (no readable run.json)`, '--resume auto starts a run whose folder has none');
    });
    return { runDir, name, previous, release: lockRunDir(runDir) };
  }
  if (config.runName && mode === 'new') {
    const exists = await stat(join(runsDir, config.runName)).then(() => true, () => false);
    if (exists) {
      throw new UserError(
        `run folder ${join(runsDir, config.runName)} already exists`,
        'continue it with --resume (or --resume auto, which also starts it when missing), or choose another --run-name',
      );
    }
  }
  const name = config.runName ?? (await freeRunName(runsDir, defaultRunName()));
  const runDir = join(runsDir, name);
  await mkdir(runDir, { recursive: true });
  return { runDir, name, previous: undefined, release: lockRunDir(runDir) };
}

/** Write run.json and config.json of a claimed run: a new run's first, or a resumed run's next session. */
export async function startRunInfo(
  claimed: ClaimedRun,
  config: ResolvedConfig,
  options: { id: string; backend: string; gitCommit?: string; parent?: RunParent },
): Promise<RunInfo> {
  const { runDir, name, previous } = claimed;
  const now = new Date().toISOString();
  await removeAtomicLeftovers(runDir);
  const common = { status: 'running' as const, updatedAt: now, versions: versions(), backend: options.backend, ...(options.gitCommit ? { gitCommit: options.gitCommit } : {}) };
  const info: RunInfo = previous
    ? { ...previous, ...common, resumes: (previous.resumes ?? 0) + 1 }
    : { id: options.id, name, createdAt: now, resumes: 0, ...(options.parent ? { parent: options.parent } : {}), ...common };
  delete info.error;
  await writeRunInfo(runDir, info);
  await writeJsonAtomic(join(runDir, 'config.json'), configForDisk(config));
  return info;
}

/**
 * What `--resume auto` does with runs/<name>/: continue it when it holds a run,
 * start it when it is missing or a crash during start-up left it without run.json.
 * Starting over a run that has steps to lose is refused later, once it is known
 * that no checkpoint can continue it.
 */
export async function autoResumeMode(config: ResolvedConfig, baseDir: string): Promise<{ mode: ClaimMode; why: string }> {
  if (!config.runName) {
    throw new UserError('--resume auto needs a run name, so that every re-run of the command means the same run', 'add --run-name <name> (or runName in the config)');
  }
  const runDir = join(resolve(baseDir, config.runsDir), config.runName);
  const entries = await readdir(runDir).catch(() => undefined);
  if (entries === undefined) return { mode: 'new', why: `${runDir} does not exist yet: starting the run` };
  if (entries.includes('run.json')) return { mode: 'resume', why: `continuing ${runDir} from its newest checkpoint that verifies` };
  // run.json is the first file a run writes: anything else here is not a start-up leftover of poke's.
  const foreign = entries.filter((n) => n !== LOCK_FILE && !ATOMIC_TEMP_PATTERN.test(n));
  if (foreign.length > 0) {
    throw new UserError(`--resume auto: ${runDir} has no run.json but holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}`, 'restore its run.json, or move the folder aside to start over');
  }
  return { mode: 'reuse', why: `${runDir} has no run.json (stopped during start-up): starting the run in it` };
}
