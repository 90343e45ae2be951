import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ArrayDataset } from '@poke/core';
import { generateRange } from './generate-range.js';
import type { GeneratedChunk } from './generate-range.js';
import { ACTION_COUNT } from './actions.js';
import { FEATURE_SIZE } from './encoder/layout.js';
import { workerUrl } from './worker-url.js';

/** The built-in players: opponents in generation and evaluation. */
export const OPPONENTS = ['random', 'maxpower', 'heuristic', 'expert'] as const;
export type Opponent = (typeof OPPONENTS)[number];
/** The built-in players that can demonstrate (all but random). */
export const DEMONSTRATORS = ['expert', 'heuristic', 'maxpower'] as const;
export type Demonstrator = (typeof DEMONSTRATORS)[number];

export interface GenerateOptions {
  /** Number of battles. */
  battles: number;
  /** @default "gen9randombattle" */
  format?: string;
  /** Who the demonstrator plays against. @default "random" */
  opponent?: Opponent;
  /** Whose decisions are recorded (p1; p2 too when the opponent is the same player). @default "expert" */
  player?: Demonstrator;
  /** @default 1 */
  seed?: number;
  /** worker_threads to spread battles over; 1 runs in this thread. @default os.availableParallelism() */
  workers?: number;
  /** Keep each battle's logs (omniscient replay text and each player's log). */
  keepLogs?: boolean;
  /** Play only battles [start, end) of the `battles` (one part of a sharded run). @default all */
  range?: { start: number; end: number };
}

export interface GenerateResult {
  dataset: ArrayDataset;
  battles: number;
  decisions: number;
  /** Battles the demonstrator (p1) won (the name predates other demonstrators). */
  expertWins: number;
  seconds: number;
  logs?: Array<{ log: string; p1: string; p2: string }>;
}

function concat<T extends Float32Array | Int32Array | Uint8Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Expert demonstrations: `battles` battles split into contiguous ranges over `workers`
 * threads and merged in battle order, so the result depends only on the options
 * (not on the number of workers).
 */
export async function generateDemonstrations(
  options: GenerateOptions,
  progress?: (done: number, total: number) => void,
): Promise<GenerateResult> {
  const started = performance.now();
  const resolved = {
    format: options.format ?? 'gen9randombattle',
    seed: options.seed ?? 1,
    opponent: options.opponent ?? 'random',
    player: options.player ?? 'expert',
    keepLogs: options.keepLogs ?? false,
  };
  const { start: first, end: last } = options.range ?? { start: 0, end: options.battles };
  const total = last - first;
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), total || 1));
  let done = 0;
  const tick = () => progress?.(++done, total);
  let chunks: GeneratedChunk[];
  if (workers === 1) {
    chunks = [generateRange(resolved, first, last, tick)];
  } else {
    const ranges = Array.from({ length: workers }, (_, w) => [first + Math.floor((w * total) / workers), first + Math.floor(((w + 1) * total) / workers)] as const);
    chunks = await Promise.all(
      ranges.map(
        ([start, end]) =>
          new Promise<GeneratedChunk>((resolve, reject) => {
            const worker = new Worker(workerUrl('worker', import.meta.url), { workerData: { options: resolved, start, end } });
            worker.on('message', (message: { type: 'battle' } | { type: 'done'; chunk: GeneratedChunk }) => {
              if (message.type === 'battle') tick();
              else resolve(message.chunk);
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`generation worker exited with code ${code}`));
            });
          }),
      ),
    );
  }
  const features = concat(chunks.map((c) => c.features), (n) => new Float32Array(n));
  const labels = concat(chunks.map((c) => c.labels), (n) => new Int32Array(n));
  const masks = concat(chunks.map((c) => c.masks), (n) => new Uint8Array(n));
  const dataset = new ArrayDataset(features, labels, masks, FEATURE_SIZE, ACTION_COUNT);
  // The core checks shards it reads, not datasets a source hands over: check here.
  const invalid = dataset.firstInvalidSample();
  if (invalid) throw new Error(`showdown: generated sample ${invalid.index} is invalid: ${invalid.reason} (a bug in @poke/showdown)`);
  const result: GenerateResult = {
    dataset,
    battles: total,
    decisions: labels.length,
    expertWins: chunks.reduce((s, c) => s + c.expertWins, 0),
    seconds: (performance.now() - started) / 1000,
  };
  if (resolved.keepLogs) result.logs = chunks.flatMap((c) => c.logs ?? []);
  return result;
}
