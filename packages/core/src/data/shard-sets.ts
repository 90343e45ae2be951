import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArrayDataset } from './dataset.js';
import { readShardIndex, loadShardSets } from './shards.js';
import type { ShardIndex } from './shards.js';
import { UserError } from '../errors.js';

/** What `poke data generate --shard I/N` records in a part's index.json. */
interface PartMeta {
  readonly index: number;
  readonly count: number;
}

function partOf(index: ShardIndex): PartMeta | undefined {
  const shard = index.meta?.shard as Partial<PartMeta> | undefined;
  return shard && Number.isInteger(shard.index) && Number.isInteger(shard.count) ? (shard as PartMeta) : undefined;
}

/**
 * A shard folder, or a folder of shard sets (one sub-folder per set, each with
 * its index.json) read as one dataset. Sets are taken in the order of their
 * `--shard` part, else of their folder names, never in the order the file
 * system lists them, so the dataset (and every run on it) is the same on every
 * machine. Parts of one sharded generation must all be there.
 */
export async function readShardSets(dir: string): Promise<ArrayDataset> {
  return loadShardSets(await listShardSets(dir));
}

/**
 * The shard sets under `dir`, in the order they make one dataset: `dir` itself
 * when it holds index.json, else its sub-folders that do, by `--shard` part,
 * then by name. Throws, saying what is missing, when there are none.
 */
export async function listShardSets(dir: string): Promise<Array<{ dir: string; index: ShardIndex }>> {
  if (existsSync(join(dir, 'index.json'))) return [{ dir, index: await readShardIndex(dir) }];
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.json')))
    .map((e) => e.name);
  // No sets either: readShardIndex says what is missing and how to make shards.
  if (names.length === 0) return [{ dir, index: await readShardIndex(dir) }];
  const sets = await Promise.all(names.map(async (name) => ({ name, index: await readShardIndex(join(dir, name)) })));
  sets.sort((a, b) => (partOf(a.index)?.index ?? 0) - (partOf(b.index)?.index ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  checkParts(dir, sets);
  const { featureSize: F, actionCount: A } = sets[0]!.index;
  const odd = sets.find((s) => s.index.featureSize !== F || s.index.actionCount !== A);
  if (odd) throw new UserError(`shards: the sets in ${dir} differ in shape (${F} features × ${A} actions, and ${odd.index.featureSize} × ${odd.index.actionCount})`);
  return sets.map((s) => ({ dir: join(dir, s.name), index: s.index }));
}

/** Parts of a sharded generation: each of 0..N-1 once, all of the same N. */
function checkParts(dir: string, sets: ReadonlyArray<{ name: string; index: ShardIndex }>): void {
  const parts = sets.map((s) => partOf(s.index));
  if (parts.every((p) => p === undefined)) return;
  const count = parts.find((p) => p !== undefined)!.count;
  const seen = new Map<number, string>();
  for (const [i, part] of parts.entries()) {
    const name = sets[i]!.name;
    if (!part || part.count !== count) throw new UserError(`shards: ${join(dir, name)} is not part of the ${count}-part generation the other sets in ${dir} belong to`, 'keep one sharded generation per folder');
    if (seen.has(part.index)) throw new UserError(`shards: ${join(dir, name)} and ${join(dir, seen.get(part.index)!)} are both part ${part.index}/${count}`);
    seen.set(part.index, name);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw new UserError(`shards: ${dir} lacks part${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} of its sharded generation`, 'wait for every part to finish, or generate the missing ones with --shard I/N');
}

