import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic, UserError } from '@poke/core';
import { pluginNames } from './names.js';
import { pluginFiles } from './files.js';
import type { TemplateVersions } from './files.js';

/** The new package asks for the @poke/core, tsx and typescript this poke runs with. */
function hostVersions(): TemplateVersions {
  const path = createRequire(import.meta.url).resolve('@poke/core/package.json');
  const core = JSON.parse(readFileSync(path, 'utf8')) as { version: string; dependencies: Record<string, string> };
  return { core: core.version, tsx: core.dependencies['tsx']!, typescript: core.dependencies['typescript']! };
}

/** Write the package `poke init --plugin <name>` makes; returns its folder. */
export async function writePluginPackage(name: string, cwd: string, force: boolean): Promise<string> {
  const names = pluginNames(name);
  const folder = join(cwd, names.folder);
  if (existsSync(folder) && (await readdir(folder)).length > 0 && !force) {
    throw new UserError(`${folder} already exists`, 'pass --force to overwrite it');
  }
  for (const [path, text] of Object.entries(pluginFiles(names, hostVersions()))) await writeFileAtomic(join(folder, path), text);
  return folder;
}
