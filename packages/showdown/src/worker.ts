import { parentPort, workerData } from 'node:worker_threads';
import { generateRange } from './generate-range.js';
import type { Demonstrator, Opponent } from './generate.js';

interface Job {
  options: { format: string; seed: number; opponent: Opponent; player?: Demonstrator; keepLogs?: boolean };
  start: number;
  end: number;
}

const { options, start, end } = workerData as Job;
const chunk = generateRange(options, start, end, () => parentPort!.postMessage({ type: 'battle' }));
parentPort!.postMessage({ type: 'done', chunk }, [chunk.features.buffer as ArrayBuffer, chunk.labels.buffer as ArrayBuffer, chunk.masks.buffer as ArrayBuffer]);
