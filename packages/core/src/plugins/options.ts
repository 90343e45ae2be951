import type { TSchema } from '@sinclair/typebox';
import { validateWithSchema } from '../config/validate.js';
import type { ResolvedOptionsOf } from './define-options.js';

/**
 * For plugin factories: check `options` against the plugin's JSON schema (filling
 * defaults) and return them. A mistake throws a UserError such as
 * `plugin poke:csv: options.flushEvery must be integer, got string "x"`.
 * A schema made with `defineOptions` types the result; a plain JSON schema takes the type as `T`.
 */
export function validatePluginOptions<S extends TSchema>(pluginName: string, schema: S, options: unknown): ResolvedOptionsOf<S>;
export function validatePluginOptions<T extends object>(pluginName: string, schema: object, options: unknown): T;
export function validatePluginOptions(pluginName: string, schema: object, options: unknown): unknown {
  const value = options === undefined ? {} : structuredCloneOptions(options);
  validateWithSchema(schema, value, `plugin ${pluginName}`, 'options');
  return value;
}

/** Options may hold functions (callbacks); clone only plain data so defaults never leak into the caller's object. */
function structuredCloneOptions(options: unknown): unknown {
  if (Array.isArray(options)) return options.map(structuredCloneOptions);
  if (options === null || typeof options !== 'object') return options;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) out[key] = structuredCloneOptions(value);
  return out;
}
