import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { coreConfigSchema, defaultsOf } from '@poke/core/internal';
import { DEFAULT_BATTLES, DEFAULT_PLUGINS } from './defaults.js';
import { tsLiteral } from './config-keys.js';

/**
 * The packages a project `poke init` writes depends on: the CLI, the core,
 * what the built-in default uses, and plugin-compare for `poke compare`.
 */
export const PROJECT_PACKAGES = ['@poke/cli', '@poke/core', '@poke/showdown', ...DEFAULT_PLUGINS, '@poke/plugin-compare'] as const;

const DEFAULTS = defaultsOf(coreConfigSchema);

/** A top-level key commented out: `// seed: 42,` and, with `note`, its description as a comment. */
function commented(key: string, value = tsLiteral(DEFAULTS[key]), note = false): string {
  const line = `  // ${key}: ${value},`;
  if (!note) return line;
  const description = (coreConfigSchema.properties as Record<string, { description?: string }>)[key]!.description!;
  return `${line.padEnd(33)} // ${description.replace(/`/g, '')}`;
}

/**
 * poke.config.ts holding exactly the built-in default (what `poke train` runs
 * without a config); every other key is shown commented out with its default.
 * Defaults and descriptions are read from the core's schema, so they cannot drift.
 */
export const STARTER_CONFIG = `import { defineConfig } from '@poke/core';

// poke trains a battle policy by behaviour cloning. This is exactly what
// \`poke train\` runs without a config file; every key left out keeps the
// default shown in its comment (docs/config.md lists them all).
export default defineConfig({
${commented('runName', "'baseline'", true)}
${commented('runsDir', undefined, true)}
${commented('seed', undefined, true)}

  // ${DEFAULT_BATTLES} seeded battles of gen9randombattle in the Showdown simulator (an expert
  // heuristic against a random player), cached in runs/.cache/showdown after the first run.
  data: { source: 'showdown', battles: ${DEFAULT_BATTLES} /* , valFraction: ${tsLiteral((DEFAULTS['data'] as Record<string, unknown>)['valFraction'])} */ },

${commented('model')}
${commented('train')}
${commented('storage', "{ url: 's3://bucket/prefix' }", true)}

  // Plugins by package or short name, [name, options] pairs, paths such as
  // './plugins/my-plugin.ts', or factories' results, e.g. csv({ flushEvery: 10 }).
  plugins: [${['@poke/showdown', ...DEFAULT_PLUGINS].map((p) => `'${p}'`).join(', ')}],
});
`;

export const STARTER_TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
    },
    include: ['poke.config.ts', 'plugins'],
  },
  null,
  2,
)}\n`;

function hostVersion(): string {
  const path = createRequire(import.meta.url).resolve('@poke/core/package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** `@poke/plugin-csv` → `poke-plugin-csv-0.1.0.tgz`, the name `npm pack` gives it. */
export function tarballName(pkg: string, version: string): string {
  return `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * package.json of a new project: poke's packages as dependencies, at this
 * poke's version, or the tarballs in `tarballs` (a folder `npm pack` wrote).
 */
export function starterPackageJson(cwd: string, tarballs?: string): string {
  const version = hostVersion();
  const dependencies: Record<string, string> = {};
  for (const pkg of PROJECT_PACKAGES) {
    const file = tarballs ? resolve(tarballs, tarballName(pkg, version)) : undefined;
    dependencies[pkg] = file && existsSync(file) ? `file:${file}` : `^${version}`;
  }
  const name = basename(cwd).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'poke-project';
  const pkg = {
    name,
    version: '0.0.0',
    private: true,
    type: 'module',
    scripts: { train: 'poke train', compare: 'poke compare runs/' },
    engines: { node: '>=20.19' },
    dependencies,
    // esbuild's postinstall only checks its binary, which tsx (poke.config.ts) finds without it;
    // npm 11 would otherwise end every install with a pending-approval warning.
    allowScripts: { esbuild: false },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** The tarballs named in a folder that lacks some of them, for a one-line error. */
export function missingTarballs(tarballs: string): string[] {
  const version = hostVersion();
  return PROJECT_PACKAGES.filter((pkg) => !existsSync(join(tarballs, tarballName(pkg, version))));
}
