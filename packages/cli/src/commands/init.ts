import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic, UserError } from '@poke/core';
import type { CommandContext } from '../context.js';
import { writePluginPackage } from '../plugin-template/write.js';

export const STARTER_CONFIG = `import { defineConfig } from '@poke/core';

// poke trains a battle policy by behaviour cloning. Every key is optional;
// the values below are the defaults. Run \`poke train\` next to this file.
export default defineConfig({
  // runName: 'baseline',        // folder under runsDir; default run-<date>-<time>
  runsDir: 'runs',
  seed: 42,                      // weight init, split, shuffling and dropout all derive from it

  data: {
    source: 'synthetic',         // 'synthetic', 'shards' (with path: './data'), or one a plugin adds
    valFraction: 0.1,            // held out for validation, the same samples every run
    samples: 20000,
    features: 64,
    actions: 10,
  },

  model: {
    hiddenSizes: [256, 256],
    activation: 'relu',          // relu | tanh | elu | gelu | selu
    dropout: 0.1,
  },

  train: {
    epochs: 5,
    batchSize: 256,
    learningRate: 0.001,         // Adam
    logEvery: 50,                // a metrics record every N steps and at each epoch end
    backend: 'auto',             // auto | tensorflow | wasm | cpu
  },

  // Plugins by package or short name, [name, options] pairs, paths, or
  // factories' results, e.g. csv({ flushEvery: 10 }).
  plugins: [],
});
`;

export function initCommand(context: CommandContext): Command {
  return new Command('init')
    .description('write a commented starter poke.config.ts in the current folder, or a plugin package')
    .option('-f, --force', 'overwrite an existing poke.config.ts (or the plugin package\'s files)')
    .option('--plugin <name>', 'write a plugin package poke-plugin-<name> instead: factory, options schema, a test that trains, README')
    .action(async (flags: { force?: boolean; plugin?: string }) => {
      if (flags.plugin !== undefined) {
        const folder = await writePluginPackage(flags.plugin, context.cwd, flags.force ?? false);
        context.logger.info(`wrote ${folder}; next: cd ${relative(context.cwd, folder)} && npm test, then poke train --plugin ./${relative(context.cwd, folder)}`);
        return;
      }
      const path = join(context.cwd, 'poke.config.ts');
      if (existsSync(path) && !flags.force) throw new UserError(`${path} already exists`, 'pass --force to overwrite it');
      await writeFileAtomic(path, STARTER_CONFIG);
      context.logger.info(`wrote ${path}; edit it, then run \`poke train\``);
    });
}
