import type { Logger } from './logger.js';
import type { StorageConfig } from './config/storage.js';

/**
 * A folder behind a URL such as `s3://bucket/prefix`. Commands that take a folder
 * (`poke data generate --out`, `poke compare`) take such a URL too: the CLI opens it
 * through the installed package that serves its scheme, so neither the core nor
 * those commands import that package.
 */
export interface RemoteFolder {
  readonly url: string;
  /**
   * Bring the files under the URL whose path (relative, `/`-separated) `include`
   * accepts into `dir`, downloading only those whose content changed since the
   * last mirror into the same `dir`.
   */
  mirror(dir: string, options?: { include?: (path: string) => boolean; progress?: (done: number, total: number) => void }): Promise<void>;
  /**
   * Upload the files of `dir` (not its sub-folders) under the URL, `last` after all
   * the others: a reader that waits for it (a shard set's index.json) never sees a
   * partial set. Resolves with how many files went up.
   */
  upload(dir: string, options?: { last?: string; progress?: (done: number, total: number) => void }): Promise<number>;
  /** Release connections; the folder is not used after. */
  close(): void;
}

/**
 * What a module listed under `poke.schemes` in a package.json default-exports:
 *
 *   "poke": { "schemes": { "s3": { "module": "./dist/remote-folder.js" } } }
 *
 * `storage` is the project config's `storage` (endpoint, region, path style), when
 * it has one: the server's address lives there, the credentials in the environment.
 */
export type OpenRemoteFolder = (url: string, context: { storage?: StorageConfig; logger: Logger }) => Promise<RemoteFolder>;

/** `s3` for `s3://bucket/x`; undefined for a local path (a Windows drive letter is not a scheme). */
export function urlScheme(path: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]+):\/\//i.exec(path);
  return match ? match[1]!.toLowerCase() : undefined;
}
