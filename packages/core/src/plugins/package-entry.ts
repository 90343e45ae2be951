import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

type Exports = string | { [condition: string]: Exports } | null | undefined;

/** The file `exports` maps `.` to, for an `import` by a `node` host. */
function rootExport(exports: Exports): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const keys = Object.keys(exports);
  if (keys.some((k) => k.startsWith('.'))) return rootExport(exports['.']);
  for (const condition of ['poke', 'node', 'import', 'default']) {
    if (condition in exports) {
      const found = rootExport(exports[condition]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * A plugin given as a folder (`./plugins/acme`, a package of its own): the file
 * its package.json names (`exports`, then `main`), else index.js or index.ts.
 * A file path is returned as is.
 */
export function pluginEntry(path: string, label: string): string {
  if (!statSync(path).isDirectory()) return path;
  const manifest = join(path, 'package.json');
  if (existsSync(manifest)) {
    let pkg: { exports?: Exports; main?: string };
    try {
      pkg = JSON.parse(readFileSync(manifest, 'utf8')) as typeof pkg;
    } catch (err) {
      throw new UserError(`plugin "${label}": ${manifest} is not valid JSON: ${(err as Error).message}`);
    }
    const entry = rootExport(pkg.exports) ?? pkg.main;
    if (entry) return join(path, entry);
  }
  for (const name of ['index.js', 'index.mjs', 'index.ts']) if (existsSync(join(path, name))) return join(path, name);
  throw new UserError(`plugin "${label}": ${path} is a folder with no entry`, 'give its package.json "exports" or "main", or add index.js');
}
