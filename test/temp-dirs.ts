/**
 * Temporary folders for tests, outside the clone. test/setup.ts removes them when the
 * run ends with every test passed; after a failure, or with POKE_KEEP_TEST_DIRS=1, it
 * keeps them and says where, to look at. Without this a full run leaves ≈700 MB in the
 * system's temp folder.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
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

/**
 * A temp folder that is a project of its own, as `poke init` writes one: config search
 * stops there, and .ts files in it are ES modules (outside any package.json they would
 * be CommonJS).
 */
export async function makeProjectDir(prefix: string): Promise<string> {
  const dir = await makeTempDir(prefix);
  await writeFile(join(dir, 'package.json'), '{ "name": "poke-test", "private": true, "type": "module" }\n');
  return dir;
}
