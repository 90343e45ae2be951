import { fileURLToPath } from 'node:url';

/** The built module of a worker thread (`name`.js in dist). Under tsx (tests of the sources) the caller is a .ts file in src/, and the worker still runs the built one. */
export function workerUrl(name: string, caller: string): URL {
  return fileURLToPath(caller).endsWith('.ts') ? new URL(`../dist/${name}.js`, caller) : new URL(`./${name}.js`, caller);
}
