import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { version_core as tfjsVersion } from '@tensorflow/tfjs-core';

const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const POKE_VERSION: string = own.version;
export const TFJS_VERSION: string = tfjsVersion;

export function versions(): { poke: string; tfjs: string; node: string } {
  return { poke: POKE_VERSION, tfjs: TFJS_VERSION, node: process.versions.node };
}

/** The git commit of `cwd`, with `-dirty` when the tree has changes; undefined outside a repository. */
export function gitCommit(cwd: string): string | undefined {
  try {
    const opts = { cwd, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[], timeout: 2000 };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).toString().trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return undefined;
  }
}
