import { cosmiconfig } from 'cosmiconfig';
import type { Loader } from 'cosmiconfig';
import { writeFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import ts from 'typescript';
import { UserError } from '../errors.js';
import { enableTypeScriptImports, shareHostPackages } from '../plugins/module-hooks.js';
import type { UserConfig } from './schema.js';

export interface LoadedConfig {
  readonly user: UserConfig;
  /** Absolute path of the file, or undefined when no config was found (the built-in default). */
  readonly file: string | undefined;
  /** Folder that relative paths in the config are resolved against. */
  readonly baseDir: string;
}

/** Syntax errors as `file:line:col: message`, before anything runs. */
function syntaxCheck(filepath: string, content: string): string {
  const result = ts.transpileModule(content, {
    fileName: filepath,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ES2022,
      target: ts.ScriptTarget.ES2022,
      allowJs: true,
      verbatimModuleSyntax: false,
    },
  });
  const error = result.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const message = ts.flattenDiagnosticMessageText(error.messageText, ' ');
    const where = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start) : undefined;
    const position = where ? `:${where.line + 1}:${where.character + 1}` : '';
    throw new UserError(`${filepath}${position}: syntax error: ${message}`);
  }
  return result.outputText;
}

const TS_FILE = /\.(?:m|c)?tsx?$/;

/**
 * Whether the config needs TypeScript imports: it is TypeScript itself (whose
 * imports may name `./x.ts`, or `./x.js` for `./x.ts`), or it imports a .ts file.
 */
function importsTypeScript(filepath: string, content: string): boolean {
  return TS_FILE.test(filepath) || ts.preProcessFile(content, true, true).importedFiles.some((f) => TS_FILE.test(f.fileName));
}

/**
 * Load a JS/TS config module: check its syntax (so errors name file:line), then
 * import the transpiled code from a temporary file beside it, so its relative
 * imports and packages resolve as they would for the original. Only the config
 * is transpiled here; the plugins it imports load through the same
 * process-wide hooks as plugins named by path.
 */
const loadModule: Loader = async (filepath, content) => {
  const code = syntaxCheck(filepath, content);
  shareHostPackages();
  if (importsTypeScript(filepath, content)) await enableTypeScriptImports();
  const temp = `${filepath}.${randomUUID()}.mjs`;
  await writeFile(temp, code);
  try {
    const mod = (await import(pathToFileURL(temp).href)) as { default?: unknown };
    return mod.default;
  } catch (err) {
    throw new UserError(`${filepath}: error while evaluating the config: ${(err as Error).message}`);
  } finally {
    await rm(temp, { force: true });
  }
};

/** Where poke looks, nearest folder first; in one folder, the first name that exists wins. */
export const SEARCH_PLACES = [
  'package.json',
  'poke.config.ts',
  'poke.config.mts',
  'poke.config.mjs',
  'poke.config.js',
  'poke.config.cjs',
  'poke.config.json',
  'poke.config.yaml',
  'poke.config.yml',
  '.pokerc',
  '.pokerc.json',
  '.pokerc.yaml',
  '.pokerc.yml',
  '.pokerc.js',
  '.pokerc.mjs',
  '.pokerc.ts',
];

const explorer = cosmiconfig('poke', {
  searchStrategy: 'project',
  searchPlaces: SEARCH_PLACES,
  // A long-lived process (tests, a watcher) must see edits to the file.
  cache: false,
  loaders: { '.ts': loadModule, '.mts': loadModule, '.js': loadModule, '.mjs': loadModule },
});

function wrapLoadError(err: unknown): never {
  if (err instanceof UserError) throw err;
  const message = (err as Error).message ?? String(err);
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`config file not found: ${(err as { path?: string }).path ?? message}`);
  throw new UserError(message.replace(/\s*\n\s*/g, ' '));
}

/** Find poke.config.* (or .pokerc, package.json#poke) from `cwd` upwards, or load `configFile`. */
export async function loadConfig(options: { configFile?: string; cwd: string }): Promise<LoadedConfig> {
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    result = options.configFile ? await explorer.load(options.configFile) : await explorer.search(options.cwd);
  } catch (err) {
    wrapLoadError(err);
  }
  if (!result) return { user: {}, file: undefined, baseDir: options.cwd };
  let user: unknown = result.config ?? {};
  if (typeof user === 'function') user = await (user as () => unknown)();
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw new UserError(`${result.filepath}: the config must be an object (export default defineConfig({ ... }))`);
  }
  return { user: user as UserConfig, file: result.filepath, baseDir: dirname(result.filepath) };
}

