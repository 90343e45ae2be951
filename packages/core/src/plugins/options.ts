import { validateWithSchema } from '../config/validate.js';

/**
 * For plugin factories: check `options` against the plugin's JSON schema (filling
 * defaults) and return them. A mistake throws a UserError such as
 * `plugin poke:csv: options.flushEvery must be integer, got string "x"`.
 */
export function validatePluginOptions<T extends object>(pluginName: string, schema: object, options: unknown): T {
  const value = options === undefined ? {} : structuredCloneOptions(options);
  validateWithSchema(schema, value, `plugin ${pluginName}`, 'options');
  return value as T;
}

/** Options may hold functions (callbacks); clone only plain data so defaults never leak into the caller's object. */
function structuredCloneOptions(options: unknown): unknown {
  if (Array.isArray(options)) return options.map(structuredCloneOptions);
  if (options === null || typeof options !== 'object') return options;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) out[key] = structuredCloneOptions(value);
  return out;
}
