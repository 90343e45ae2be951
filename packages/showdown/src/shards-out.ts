import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError, urlScheme, writeShards } from '@poke/core';
import type { Context } from './cli-common.js';

type ShardData = Parameters<typeof writeShards>[1];
type ShardMeta = Parameters<typeof writeShards>[2];

export interface ShardsTarget {
  /** The folder or URL, as the summary prints it. */
  readonly where: string;
  write(dataset: ShardData, meta: ShardMeta): Promise<void>;
  close(): void;
}

/**
 * Write a shard set to `out`: a local folder, or a URL (s3://bucket/prefix) that is
 * opened first, so wrong credentials are refused before any battle is played.
 * For a URL the set is written to a scratch folder, then uploaded with index.json
 * last, so no reader takes a partial set; a failed upload keeps the scratch
 * folder and says how to send it.
 */
export async function shardsOut(out: string, context: Context): Promise<ShardsTarget> {
  if (!urlScheme(out)) {
    const dir = resolve(context.cwd, out);
    // Made now, so a path that cannot be a folder is refused before the battles, not after.
    await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new UserError(`--out ${out}: cannot make the folder ${dir} (${err.code ?? err.message})`);
    });
    return { where: dir, write: async (dataset, meta) => void (await writeShards(dir, dataset, meta)), close: () => {} };
  }
  const folder = await context.remoteFolder(out);
  return {
    where: out,
    async write(dataset, meta) {
      const scratch = await mkdtemp(join(tmpdir(), 'poke-shards-'));
      await writeShards(scratch, dataset, meta);
      try {
        await folder.upload(scratch, { last: 'index.json', progress: context.progress(`uploading to ${out}`) });
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new UserError(`${out}: upload failed (${(err as Error).message}); the shards are kept in ${scratch}`, `send them with: poke storage push ${scratch} ${out}`);
      }
      await rm(scratch, { recursive: true, force: true });
    },
    close: () => folder.close(),
  };
}
