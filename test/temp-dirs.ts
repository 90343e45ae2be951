/**
 * Temporary folders for tests, outside the clone. test/setup.ts removes them when the
 * run ends with every test passed; after a failure, or with POKE_KEEP_TEST_DIRS=1, it
 * keeps them and says where, to look at. Without this a full run leaves ≈700 MB in the
 * system's temp folder.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Kept on globalThis: mocha loads test/setup.ts through require() and the tests through
 * import(), which give this file two module instances.
 */
const KEY = Symbol.for('poke.test.tempDirs');
export const madeTempDirs = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Set<string>()) as Set<string>;

/** A new folder in the system's temp folder, named `<prefix>XXXXXX`, removed after a passing run. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  madeTempDirs.add(dir);
  return dir;
}
