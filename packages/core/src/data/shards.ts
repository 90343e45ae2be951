import { readFile, mkdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ArrayDataset } from './dataset.js';
import type { Dataset } from './dataset.js';
import type { DataSource } from './source.js';
import { UserError } from '../errors.js';
import { validateWithSchema } from '../config/validate.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

/**
 * The shard format: a folder with `index.json` and one binary file per shard.
 * A shard holds n samples as three little-endian sections, back to back:
 * features (float32, n × featureSize), labels (int32, n), masks (uint8, n × actionCount).
 */
export interface ShardIndex {
  format: 'poke-shards';
  version: 1;
  featureSize: number;
  actionCount: number;
  shards: Array<{ file: string; samples: number; sha256?: string }>;
  /** Free-form description of where the data came from. */
  meta?: Record<string, unknown>;
}

export const SHARD_FILE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$';

export const shardIndexSchema = {
  type: 'object',
  required: ['format', 'version', 'featureSize', 'actionCount', 'shards'],
  properties: {
    format: { const: 'poke-shards' },
    version: { const: 1 },
    featureSize: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    actionCount: { type: 'integer', minimum: 2, maximum: 100_000 },
    shards: {
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'samples'],
        additionalProperties: false,
        properties: {
          file: { type: 'string', pattern: SHARD_FILE_PATTERN },
          samples: { type: 'integer', minimum: 0 },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
    },
    meta: { type: 'object' },
  },
} as const;

export function bytesPerSample(index: Pick<ShardIndex, 'featureSize' | 'actionCount'>): number {
  return index.featureSize * 4 + 4 + index.actionCount;
}

export async function readShardIndex(dir: string): Promise<ShardIndex> {
  const path = join(dir, 'index.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(
        `shards: no shards at ${dir} (${path} does not exist)`,
        'write some with `poke data generate --out <dir>` or `poke data import <replays> --out <dir>`, or point data.path at a folder that holds index.json',
      );
    }
    throw new UserError(`shards: cannot read ${path}: ${code ?? String(err)}`);
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (err) {
    throw new UserError(`shards: ${path} is not valid JSON: ${(err as Error).message}`);
  }
  validateWithSchema(shardIndexSchema, index, path);
  return index as ShardIndex;
}

/**
 * Check every shard file's size against the index before anything is read:
 * the index alone must not make us allocate (a hostile `samples` could ask
 * for petabytes).
 */
export async function checkShardSizes(dir: string, index: ShardIndex): Promise<number> {
  const per = bytesPerSample(index);
  let total = 0;
  for (const shard of index.shards) {
    const path = join(dir, shard.file);
    const size = await stat(path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        throw new UserError(`shards: cannot read ${path}: ${err.code ?? err.message}`);
      },
    );
    if (size !== shard.samples * per) {
      throw new UserError(`shards: ${path} has ${size} bytes, expected ${shard.samples * per} for ${shard.samples} samples`);
    }
    total += size;
  }
  return total;
}

/** One shard file's bytes as its three arrays; views where the bytes are aligned, copies where not. */
export function decodeShard(bytes: Uint8Array, n: number, F: number, A: number): { features: Float32Array; labels: Int32Array; masks: Uint8Array } {
  const at = (offset: number) => bytes.byteOffset + offset;
  const features = at(0) % 4 === 0 ? new Float32Array(bytes.buffer, at(0), n * F) : new Float32Array(bytes.slice(0, n * F * 4).buffer);
  const labelsAt = n * F * 4;
  const labels = at(labelsAt) % 4 === 0 ? new Int32Array(bytes.buffer, at(labelsAt), n) : new Int32Array(bytes.slice(labelsAt, labelsAt + n * 4).buffer);
  const masks = bytes.subarray(labelsAt + n * 4, labelsAt + n * 4 + n * A);
  return { features, labels, masks };
}

/** Read one shard file, check its size and sha256 against the index, and decode it. */
export async function readShardFile(dir: string, shard: ShardIndex['shards'][number], index: Pick<ShardIndex, 'featureSize' | 'actionCount'>): Promise<ReturnType<typeof decodeShard>> {
  const path = join(dir, shard.file);
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`shards: cannot read ${path}: ${err.code ?? err.message}`);
  });
  const expected = shard.samples * bytesPerSample(index);
  if (bytes.length !== expected) throw new UserError(`shards: ${path} has ${bytes.length} bytes, expected ${expected} for ${shard.samples} samples`);
  if (shard.sha256 && createHash('sha256').update(bytes).digest('hex') !== shard.sha256) {
    throw new UserError(`shards: ${path} does not match its sha256 in index.json (altered or corrupt)`);
  }
  return decodeShard(bytes, shard.samples, index.featureSize, index.actionCount);
}

/** Load every shard of `dir` into memory, checking sizes, checksums and labels. */
export async function readShards(dir: string): Promise<ArrayDataset> {
  const index = await readShardIndex(dir);
  await checkShardSizes(dir, index);
  const total = index.shards.reduce((sum, s) => sum + s.samples, 0);
  const { featureSize: F, actionCount: A } = index;
  const features = new Float32Array(total * F);
  const labels = new Int32Array(total);
  const masks = new Uint8Array(total * A);
  let offset = 0;
  for (const shard of index.shards) {
    const decoded = await readShardFile(dir, shard, index);
    features.set(decoded.features, offset * F);
    labels.set(decoded.labels, offset);
    masks.set(decoded.masks, offset * A);
    offset += shard.samples;
  }
  const dataset = new ArrayDataset(features, labels, masks, F, A);
  const invalid = dataset.firstInvalidSample();
  if (invalid) throw new UserError(`shards: ${dir}: sample ${invalid.index}: ${invalid.reason}`);
  return dataset;
}

/** Write `dataset` as shards of at most `shardSize` samples; files first, index last, each atomically. */
export async function writeShards(
  dir: string,
  dataset: Dataset & { features?: Float32Array },
  options: { shardSize?: number; meta?: Record<string, unknown> } = {},
): Promise<ShardIndex> {
  const shardSize = options.shardSize ?? 65536;
  await mkdir(dir, { recursive: true });
  const index: ShardIndex = {
    format: 'poke-shards',
    version: 1,
    featureSize: dataset.featureSize,
    actionCount: dataset.actionCount,
    shards: [],
    ...(options.meta ? { meta: options.meta } : {}),
  };
  for (let start = 0, k = 0; start < dataset.size; start += shardSize, k++) {
    const n = Math.min(shardSize, dataset.size - start);
    const indices = Array.from({ length: n }, (_, i) => start + i);
    const batch = dataset.gather(indices);
    const bytes = Buffer.concat([
      Buffer.from(batch.features.buffer, batch.features.byteOffset, batch.features.byteLength),
      Buffer.from(batch.labels.buffer, batch.labels.byteOffset, batch.labels.byteLength),
      Buffer.from(batch.masks.buffer, batch.masks.byteOffset, batch.masks.byteLength),
    ]);
    const file = `shard-${String(k).padStart(5, '0')}.bin`;
    await writeFileAtomic(join(dir, file), bytes);
    index.shards.push({ file, samples: n, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  await writeJsonAtomic(join(dir, 'index.json'), index);
  return index;
}

export interface ShardsOptions {
  /** Folder holding index.json, or sub-folders that each do (read as one dataset); relative to the config file. */
  path: string;
  /** Shard files up to this size in all are loaded whole; larger sets are streamed within it. */
  memoryBudgetMB: number;
}

export const shardsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    source: { const: 'shards' },
    valFraction: { type: 'number' },
    path: { type: 'string', minLength: 1 },
    memoryBudgetMB: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 2048,
      description: 'shard sets up to this size are loaded whole; larger ones are read as training goes, holding at most this much',
    },
  },
} as const;

/**
 * The shard set(s) in `dir` as a dataset: loaded whole when their files fit in
 * the budget, as they always were, else streamed within it (ShardStream).
 */
export async function openShardSets(dir: string, memoryBudgetMB: number, log: (message: string) => void = () => {}): Promise<Dataset> {
  const { listShardSets, readShardSets } = await import('./shard-sets.js');
  const sets = await listShardSets(dir);
  let total = 0;
  for (const set of sets) total += await checkShardSizes(set.dir, set.index);
  const budget = memoryBudgetMB * 2 ** 20;
  if (total <= budget) return readShardSets(dir);
  const { ShardStream } = await import('./shard-stream.js');
  const stream = new ShardStream(sets, budget);
  log(`shards: ${(total / 2 ** 30).toFixed(2)} GB is more than data.memoryBudgetMB (${memoryBudgetMB}): streaming ${stream.shardCount} shards, ${stream.window} at a time`);
  return stream;
}

export const shardsSource: DataSource<ShardsOptions> = {
  name: 'shards',
  schema: shardsSchema,
  describe: (o) => `shards from ${o.path}`,
  load: async (options, context) => {
    if (options.path.startsWith('s3://')) {
      throw new UserError(`data.path ${options.path}: reading shards from object storage needs @poke/plugin-storage`, 'set storage (storage.url, or --storage s3://…), which also gives the endpoint; the plugin comes with it');
    }
    return openShardSets(resolve(context.baseDir, options.path), options.memoryBudgetMB, context.progress);
  },
};
