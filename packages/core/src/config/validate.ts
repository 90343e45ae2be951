import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { UserError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { redactUrl } from '../util/redact.js';

const ajv = new Ajv({ allErrors: false, useDefaults: true, verbose: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** `/train/epochs` → `train.epochs`, prefixed by where the object sits. */
export function jsonPath(prefix: string, instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const joined = parts.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
  const full = `${prefix}${joined}`.replace(/^\./, '');
  return full || '(root)';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = redactUrl(value); // a mistyped URL may carry a password
    return `string ${JSON.stringify(shown.length > 40 ? shown.slice(0, 40) + '…' : shown)}`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** One line a user can act on: where, what was expected, what was found, a hint. */
export function formatAjvError(error: ErrorObject, prefix: string): string {
  const path = jsonPath(prefix, error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const where = path === '(root)' ? '' : ` in ${path}`;
      const list = known.length ? `; known keys: ${known.join(', ')}` : '';
      return `unknown key "${key}"${where}${didYouMean(key, known)}${list}`;
    }
    case 'type':
      return `${path} must be ${(error.params as { type: string }).type}, got ${describe(error.data)}`;
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const hint = typeof error.data === 'string' ? didYouMean(error.data, allowed.map(String)) : '';
      return `${path} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(error.data)}${hint}`;
    }
    case 'required':
      return `${path} is missing required key "${(error.params as { missingProperty: string }).missingProperty}"`;
    default:
      return `${path} ${error.message ?? 'is invalid'}, got ${describe(error.data)}`;
  }
}

/**
 * Validate `value` against `schema` in place (defaults are filled in).
 * Throws a UserError naming `source` (a file, `--set`, `plugin poke:csv`) and the JSON path.
 */
export function validateWithSchema(schema: object, value: unknown, source: string, prefix = ''): void {
  const validate = compile(schema);
  if (validate(value)) return;
  const error = validate.errors![0]!;
  throw new UserError(`${source}: ${formatAjvError(error, prefix)}`);
}
