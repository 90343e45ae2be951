import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * What configs and plugins may import beyond plain Node: TypeScript, and the
 * host's own packages. Both are registered process-wide, once, before the first
 * config or plugin is imported.
 */

let hostPackagesShared = false;
let typeScriptEnabled = false;

/** The built hook: under tsx (tests of the sources) this file is a .ts beside no .js. */
function hookURL(): URL {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? new URL('../../dist/plugins/host-packages-hook.js', import.meta.url) : new URL('./host-packages-hook.js', import.meta.url);
}

/**
 * Resolve `@poke/core`, tfjs and (when the importer has none) other `@poke/*`
 * packages from this package, for every module imported from now on: a plugin
 * with `@poke/core` as a peer dependency gets the copy that runs it.
 */
export function shareHostPackages(): void {
  if (hostPackagesShared) return;
  // Resolving `@poke/core` from inside @poke/core is a self-reference: this very package.
  register(hookURL(), import.meta.url, { data: { hostURL: import.meta.url } });
  hostPackagesShared = true;
}

/**
 * Let `import()` load TypeScript. Registered process-wide (not tsx's namespaced
 * tsImport), so a plugin shares this process's @poke/core and tfjs instead of
 * loading second copies of them.
 */
export async function enableTypeScriptImports(): Promise<void> {
  if (typeScriptEnabled) return;
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  typeScriptEnabled = true;
}
