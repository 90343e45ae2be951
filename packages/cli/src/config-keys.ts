import { coreConfigSchema, optionRows } from '@poke/core';
import type { OptionRow } from '@poke/core';

/** A value as TypeScript source: `'runs'`, `[256, 256]`, `{ epochs: 5 }`. */
export function tsLiteral(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(tsLiteral).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${tsLiteral(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return JSON.stringify(value);
}

/** A value as docs/config.md shows a default: JSON with a space after each comma. */
function jsonLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonLiteral).join(', ')}]`;
  return JSON.stringify(value);
}

function meaning(row: OptionRow): string {
  const values = row.values?.map((v) => `\`${String(v)}\``).join(', ');
  return [values, row.description].filter(Boolean).join('; ');
}

/** docs/config.md's table of keys, written from the core's schema (scripts/config-docs.mjs puts it there). */
export function configKeyTable(): string {
  const lines = ['| key | default | meaning |', '|---|---|---|'];
  for (const row of optionRows(coreConfigSchema)) {
    lines.push(`| \`${row.key}\` | ${row.hasDefault ? `\`${jsonLiteral(row.value)}\`` : ''} | ${meaning(row)} |`);
  }
  return lines.join('\n');
}

/** The marks around the generated table in docs/config.md. */
export const TABLE_START = '<!-- keys: written from coreConfigSchema by `npm run docs:config`; edit the schema, not this table -->';
export const TABLE_END = '<!-- /keys -->';
