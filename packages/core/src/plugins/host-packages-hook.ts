/**
 * Module resolution hook (registered with `module.register`, runs on Node's
 * loader thread): plugins and configs get the host's packages.
 *
 * A plugin declares `@poke/core` as a peer dependency, as a Vite plugin does
 * `vite`. Loaded by path from a folder of its own, it may have no copy of
 * `@poke/core` to resolve, or a copy of its own (a dev dependency for its
 * tests). Either way it must get the one running the trainer: a second copy
 * has its own `Trainer` class and its own tfjs engine with no backend set.
 */

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string; format?: string | null }>;

/** Packages of which exactly one copy may run: always the host's when the host has them. */
const SINGLETON = /^(?:@poke\/core|@tensorflow\/[^/]+)(?:\/|$)/;
/** Other poke packages (published hooks of built-in plugins): the host's when the importer has none. */
const POKE_PACKAGE = /^@poke\//;

let hostURL = '';

export function initialize(data: { hostURL: string }): void {
  hostURL = data.hostURL;
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  const parent = context.parentURL;
  // tfjs packages pin one another's versions; leave their own imports alone.
  if (!parent || !POKE_PACKAGE.test(specifier) && !SINGLETON.test(specifier) || parent.includes('/node_modules/@tensorflow/')) {
    return nextResolve(specifier, context);
  }
  if (SINGLETON.test(specifier)) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: hostURL });
    } catch {
      return nextResolve(specifier, context);
    }
  }
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    try {
      return await nextResolve(specifier, { ...context, parentURL: hostURL });
    } catch {
      throw err;
    }
  }
}
