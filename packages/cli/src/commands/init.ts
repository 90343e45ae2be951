import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic, UserError } from '@poke/core';
import type { CommandContext } from '../context.js';
import { writePluginPackage } from '../plugin-template/write.js';
import { STARTER_CONFIG, STARTER_TSCONFIG, starterPackageJson, missingTarballs } from '../project-template.js';

export { STARTER_CONFIG } from '../project-template.js';

interface InitFlags {
  force?: boolean;
  plugin?: string;
  tarballs?: string;
}

/**
 * In a folder without package.json: a project (package.json with poke's
 * packages, poke.config.ts, tsconfig.json). In an existing project: only
 * poke.config.ts.
 */
async function initProject(flags: InitFlags, context: CommandContext): Promise<void> {
  const { cwd } = context;
  const project = !existsSync(join(cwd, 'package.json'));
  const tarballs = flags.tarballs === undefined ? undefined : resolve(cwd, flags.tarballs);
  if (tarballs !== undefined) {
    if (!project) throw new UserError('--tarballs: this folder already has a package.json; poke init writes only poke.config.ts here', 'npm install the tarballs yourself, or run poke init in an empty folder');
    const missing = missingTarballs(tarballs);
    if (missing.length) throw new UserError(`--tarballs ${flags.tarballs}: no tarball for ${missing.join(', ')}`, 'npm pack every poke package into that folder first');
  }
  const files: Record<string, string> = { 'poke.config.ts': STARTER_CONFIG };
  if (project) {
    files['package.json'] = starterPackageJson(cwd, tarballs);
    files['tsconfig.json'] = STARTER_TSCONFIG;
  }
  const existing = Object.keys(files).filter((name) => existsSync(join(cwd, name)));
  if (existing.length > 0 && !flags.force) throw new UserError(`${join(cwd, existing[0]!)} already exists`, 'pass --force to overwrite it');
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(join(cwd, name), text);
  const written = Object.keys(files).join(', ');
  context.logger.info(
    project
      ? `wrote ${written} in ${cwd}; next: npm install, then npx poke train`
      : `wrote ${join(cwd, 'poke.config.ts')} (the built-in default; package.json exists, so nothing else); next: npm install @poke/cli @poke/showdown if they are missing, then npx poke train`,
  );
}

export function initCommand(context: CommandContext): Command {
  return new Command('init')
    .description('write a project (package.json, poke.config.ts, tsconfig.json) or, in an existing project, poke.config.ts; or a plugin package')
    .option('-f, --force', 'overwrite existing files')
    .option('--tarballs <folder>', 'in a new project: depend on the tarballs `npm pack` wrote into this folder instead of a registry version')
    .option('--plugin <name>', 'write a plugin package poke-plugin-<name> instead: factory, options schema, a test that trains, README')
    .action(async (flags: InitFlags) => {
      if (flags.plugin !== undefined) {
        const folder = await writePluginPackage(flags.plugin, context.cwd, flags.force ?? false);
        context.logger.info(`wrote ${folder}; next: cd ${relative(context.cwd, folder)} && npm test, then poke train --plugin ./${relative(context.cwd, folder)}`);
        return;
      }
      await initProject(flags, context);
    });
}
