/**
 * A complete third-party plugin: writes every metrics record as one JSON line.
 * Use it from a config as `plugins: [['./plugins/jsonl-logger.ts', { file: 'metrics.jsonl' }]]`.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, defineOptions, withDefault, validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer, MetricsRecord, OptionsOf } from '@poke/core';

const PLUGIN_NAME = 'example:jsonl-logger';

// The one definition of the options: the JSON schema checked at run time, its
// defaults and descriptions, and (below) the TypeScript type read from it.
export const schema = defineOptions({
  file: withDefault(Type.String({ pattern: '^[A-Za-z0-9._-]+$', description: 'file name inside the run folder' }), 'metrics.jsonl'),
});

export type JsonlLoggerOptions = OptionsOf<typeof schema>;

export default function jsonlLogger(options?: JsonlLoggerOptions): PokePlugin {
  // Typed from the schema: `file` is a string, its default filled in.
  const { file } = validatePluginOptions(PLUGIN_NAME, schema, options);
  return {
    name: PLUGIN_NAME,
    apply(trainer: Trainer) {
      let path = '';
      let pending: Promise<void> = Promise.resolve();
      trainer.hooks.setup.tap(PLUGIN_NAME, ({ runDir }) => {
        path = join(runDir, file);
      });
      // Records after lastLoggedStep are emitted again by the resumed run: drop ours.
      trainer.hooks.resumed.tapPromise(PLUGIN_NAME, async ({ state }) => {
        const text = await readFile(path, 'utf8').catch(() => '');
        const kept = text.split('\n').filter((line) => line && (JSON.parse(line) as MetricsRecord).step <= state.lastLoggedStep);
        await writeFile(path, kept.map((line) => line + '\n').join(''));
      });
      // log is a sync hook: queue the write and wait for the queue at the end.
      trainer.hooks.log.tap(PLUGIN_NAME, (record) => {
        pending = pending.then(() => appendFile(path, JSON.stringify(record) + '\n'));
      });
      trainer.hooks.done.tapPromise(PLUGIN_NAME, () => pending);
    },
  };
}
