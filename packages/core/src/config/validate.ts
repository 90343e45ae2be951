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
    case 'oneOf':
    case 'anyOf':
      return `${path} must be ${alternatives(error.schema as object[])}, got ${describe(error.data)}${keyHint(error.data, error.schema as object[])}`;
    default:
      return `${path} ${error.message ?? 'is invalid'}, got ${describe(error.data)}`;
  }
}

interface Branch {
  const?: unknown;
  type?: string;
  properties?: Record<string, { type?: string }>;
  enum?: unknown[];
}

/** `"epoch", { steps } or { minutes }`: the shapes a oneOf accepts, as a user would write them. */
function alternatives(branches: readonly Branch[]): string {
  const shown = branches.map((b) => {
    if ('const' in b) return JSON.stringify(b.const);
    if (b.enum) return b.enum.map((v) => JSON.stringify(v)).join(', ');
    if (b.properties) return `{ ${Object.keys(b.properties).join(', ')} }`;
    return b.type ?? 'something else';
  });
  return shown.length > 1 ? `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}` : (shown[0] ?? 'valid');
}

/** A near miss: a string against the branches' words, an object's unknown keys against every branch's keys. */
function keyHint(value: unknown, branches: readonly Branch[]): string {
  if (typeof value === 'string') {
    const words = branches.flatMap((b) => ('const' in b ? [b.const] : (b.enum ?? []))).filter((v): v is string => typeof v === 'string');
    return didYouMean(value, words);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '';
  const known = [...new Set(branches.flatMap((b) => Object.keys(b.properties ?? {})))];
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = didYouMean(key, known);
    if (hint) return ` with key "${key}"${hint}`;
  }
  return '';
}

/**
 * Validate `value` against `schema` in place (defaults are filled in).
 * Throws a UserError naming `source` (a file, `--set`, `plugin poke:csv`) and the JSON path.
 */
export function validateWithSchema(schema: object, value: unknown, source: string | ((path: string) => string), prefix = ''): void {
  const problem = schemaProblem(schema, value, prefix);
  if (!problem) return;
  throw new UserError(`${typeof source === 'string' ? source : source(problem.path)}: ${problem.message}`);
}

/**
 * Validate in place (defaults filled in); the first problem as its JSON path and
 * one line, or undefined. A oneOf reports each branch's failure before its own:
 * its own error names every shape it accepts, so that one is reported.
 */
export function schemaProblem(schema: object, value: unknown, prefix = ''): { path: string; message: string } | undefined {
  const validate = compile(schema);
  if (validate(value)) return undefined;
  const errors = validate.errors!;
  const last = errors.at(-1)!;
  const error = last.keyword === 'oneOf' || last.keyword === 'anyOf' ? last : errors[0]!;
  return { path: jsonPath(prefix, error.instancePath), message: formatAjvError(error, prefix) };
}
