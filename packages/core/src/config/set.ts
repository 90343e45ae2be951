import { UserError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { coreConfigSchema } from './schema.js';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
}

/** `true` → true, `3` → 3, `[64,64]` → array, anything not JSON stays a string. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Apply `--set a.b.c=value` to a user config object. The key must exist in the
 * schema (data source options are checked later by the source's own schema).
 */
export function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${assignment}: expected key=value, e.g. --set train.epochs=3`);
  const path = assignment.slice(0, eq).split('.');
  const value = parseSetValue(assignment.slice(eq + 1));
  if (path[0] === 'plugins') throw new UserError(`--set ${assignment}: plugins are set with --plugin and --no-plugin`);
  let node: SchemaNode | undefined = coreConfigSchema as unknown as SchemaNode;
  let obj = target;
  path.forEach((key, i) => {
    if (node) {
      const known = node.properties ?? {};
      if (!(key in known) && node.additionalProperties === false) {
        const where = i === 0 ? '' : ` in ${path.slice(0, i).join('.')}`;
        throw new UserError(`--set ${assignment}: unknown key "${key}"${where}${didYouMean(key, Object.keys(known))}`);
      }
      node = known[key];
    }
    if (i === path.length - 1) {
      obj[key] = value;
    } else {
      if (typeof obj[key] !== 'object' || obj[key] === null) obj[key] = {};
      obj = obj[key] as Record<string, unknown>;
    }
  });
}
