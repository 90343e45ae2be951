import { readFile, mkdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineOptions, withDefault } from '../plugins/define-options.js';
import type { ResolvedOptionsOf } from '../plugins/define-options.js';
import { ArrayDataset } from './dataset.js';
import type { Dataset } from './dataset.js';
import { decodedBytesPerSample, readShardFile, shardFileBytes, wrongSize } from './shard-file.js';
import type { ShardEntry, ShardShape } from './shard-file.js';
import { encodeFeatures, featureEncodingSchema, fitEncoding } from './encoding.js';
import type { EncodingName } from './encoding.js';
import type { DataSource, DataSourceContext } from './source.js';
import { UserError } from '../errors.js';
import { validateWithSchema } from '../config/validate.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

/**
 * The shard format: a folder with `index.json` and one binary file per shard.
 * A shard holds n samples as three little-endian sections, back to back:
 * features (n × featureSize, float32 unless `encoding` says otherwise), labels
 * (int32, n), masks (uint8, n × actionCount). Version 2 is version 1 with an
 * `encoding`, so that a reader that does not know encodings refuses it.
 */
export interface ShardIndex extends ShardShape {
  format: 'poke-shards';
  version: 1 | 2;
  shards: ShardEntry[];
  /** Free-form description of where the data came from. */
  meta?: Record<string, unknown>;
}

export const SHARD_FILE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$';

export const shardIndexSchema = {
  type: 'object',
  required: ['format', 'version', 'featureSize', 'actionCount', 'shards'],
  properties: {
    format: { const: 'poke-shards' },
    version: { enum: [1, 2] },
    encoding: featureEncodingSchema,
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
  const problem = encodingProblem(index as ShardIndex);
  if (problem) throw new UserError(`shards: ${path}: ${problem}`);
  return index as ShardIndex;
}

/** What the schema does not say: a compact encoding comes with version 2, and uint8 has an offset and a scale per feature. */
function encodingProblem(index: ShardIndex): string | undefined {
  const { encoding, featureSize } = index;
  if (encoding && encoding.type !== 'float32' && index.version !== 2) return `an "encoding" comes with "version": 2 (a reader of version 1 would take the bytes for float32), got version ${index.version}`;
  if (encoding?.type === 'uint8' && (encoding.offset.length !== featureSize || encoding.scale.length !== featureSize)) {
    return `uint8 needs an offset and a scale for each of the ${featureSize} features, got ${encoding.offset.length} offsets and ${encoding.scale.length} scales`;
  }
  return undefined;
}

/**
 * Check every shard file's size against the index before anything is read:
 * the index alone must not make us allocate (a hostile `samples` could ask
 * for petabytes).
 */
export async function checkShardSizes(dir: string, index: ShardIndex): Promise<void> {
  for (const shard of index.shards) {
    const path = join(dir, shard.file);
    const size = await stat(path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        throw new UserError(`shards: cannot read ${path}: ${err.code ?? err.message}`);
      },
    );
    if (size !== shardFileBytes(shard, index)) throw wrongSize(path, size, shard, index);
  }
}

/** Load every shard of `dir` into memory, checking sizes, checksums and labels. */
export async function readShards(dir: string): Promise<ArrayDataset> {
  return loadShardSet(dir, await readShardIndex(dir));
}

/** Load the shards an index already read lists; see readShards. */
export function loadShardSet(dir: string, index: ShardIndex): Promise<ArrayDataset> {
  return loadShardSets([{ dir, index }]);
}

/**
 * Load sets of one shape as one dataset, in the order given: the whole is allocated once and
 * each shard decoded into it, so loading takes the dataset's size and one shard's more.
 */
export async function loadShardSets(sets: ReadonlyArray<{ dir: string; index: ShardIndex }>): Promise<ArrayDataset> {
  for (const { dir, index } of sets) await checkShardSizes(dir, index);
  const total = sets.reduce((sum, { index }) => sum + index.shards.reduce((n, s) => n + s.samples, 0), 0);
  const { featureSize: F, actionCount: A } = sets[0]!.index;
  const features = new Float32Array(total * F);
  const labels = new Int32Array(total);
  const masks = new Uint8Array(total * A);
  const starts: number[] = [];
  let offset = 0;
  for (const { dir, index } of sets) {
    starts.push(offset);
    for (const shard of index.shards) {
      const decoded = await readShardFile(dir, shard, index);
      features.set(decoded.features, offset * F);
      labels.set(decoded.labels, offset);
      masks.set(decoded.masks, offset * A);
      offset += shard.samples;
    }
  }
  const dataset = new ArrayDataset(features, labels, masks, F, A);
  const invalid = dataset.firstInvalidSample();
  if (invalid) {
    // Named as in its own set: sample i of the folder that holds it.
    const s = starts.findLastIndex((start) => start <= invalid.index);
    throw new UserError(`shards: ${sets[s]!.dir}: sample ${invalid.index - starts[s]!}: ${invalid.reason}`);
  }
  return dataset;
}

/**
 * Write `dataset` as shards of at most `shardSize` samples, features stored as
 * `encoding` (float32 by default; see encoding.ts); files first, index last,
 * each atomically.
 */
export async function writeShards(
  dir: string,
  dataset: Dataset & { features?: Float32Array },
  options: { shardSize?: number; meta?: Record<string, unknown>; encoding?: EncodingName } = {},
): Promise<ShardIndex> {
  const shardSize = options.shardSize ?? 65536;
  if (!Number.isInteger(shardSize) || shardSize < 1) throw new UserError(`writeShards: shardSize must be a positive integer, got ${shardSize}`);
  await mkdir(dir, { recursive: true });
  const encoding = fitEncoding(options.encoding ?? 'float32', featuresOf(dataset), dataset.featureSize);
  const index: ShardIndex = {
    format: 'poke-shards',
    version: encoding.type === 'float32' ? 1 : 2,
    featureSize: dataset.featureSize,
    actionCount: dataset.actionCount,
    ...(encoding.type === 'float32' ? {} : { encoding }),
    shards: [],
    ...(options.meta ? { meta: options.meta } : {}),
  };
  for (let start = 0, k = 0; start < dataset.size; start += shardSize, k++) {
    const n = Math.min(shardSize, dataset.size - start);
    const indices = Array.from({ length: n }, (_, i) => start + i);
    const batch = dataset.gather(indices);
    const bytes = Buffer.concat([
      encodeFeatures(batch.features, dataset.featureSize, encoding),
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

/** Every feature of `dataset`, for fitting an encoding: its array when it has one, else gathered. */
function featuresOf(dataset: Dataset & { features?: Float32Array }): Float32Array {
  return dataset.features ?? dataset.gather(Array.from({ length: dataset.size }, (_, i) => i)).features;
}

/** The `data` section when `source: 'shards'`: the one definition of its keys, types and defaults. */
export const shardsSchema = defineOptions({
  source: Type.Optional(Type.Literal('shards')),
  valFraction: Type.Optional(Type.Number()),
  path: Type.String({
    minLength: 1,
    description: 'required: a folder in the [shard format](data.md) holding index.json, or sub-folders that each do (read as one dataset); relative to the config file',
  }),
  memoryBudgetMB: withDefault(
    Type.Number({
      exclusiveMinimum: 0,
      description:
        'shard sets up to this size are loaded whole; larger ones are read as training goes, holding at most this much ([data.md](data.md#datasets-larger-than-memory))',
    }),
    2048,
  ),
});

export type ShardsOptions = ResolvedOptionsOf<typeof shardsSchema>;

/**
 * The shard set(s) in `dir` as a dataset: loaded whole when they fit in the budget
 * once decoded (float32), as they always were, else streamed within it (ShardStream).
 */
export async function openShardSets(dir: string, memoryBudgetMB: number, report: Partial<Pick<DataSourceContext, 'progress' | 'warn'>> = {}): Promise<Dataset> {
  const { listShardSets } = await import('./shard-sets.js');
  const sets = await listShardSets(dir);
  const total = sets.reduce((sum, set) => sum + set.index.shards.reduce((n, shard) => n + shard.samples, 0) * decodedBytesPerSample(set.index), 0);
  const budget = memoryBudgetMB * 2 ** 20;
  if (total <= budget) return loadShardSets(sets);
  // Both check every file's size before the first read.
  for (const set of sets) await checkShardSizes(set.dir, set.index);
  const { ShardStream } = await import('./shard-stream.js');
  const stream = new ShardStream(sets, budget, report.warn);
  report.progress?.(`shards: ${(total / 2 ** 30).toFixed(2)} GB once read is more than data.memoryBudgetMB (${memoryBudgetMB}): streaming ${stream.shardCount} shards, ${stream.window} at a time`);
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
    return openShardSets(resolve(context.baseDir, options.path), options.memoryBudgetMB, context);
  },
};
