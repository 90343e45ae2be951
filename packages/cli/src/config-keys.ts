import { coreConfigSchema, syntheticSource, shardsSource, optionRows } from '@poke/core/internal';
import type { OptionRow } from '@poke/core/internal';

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

function cells(row: OptionRow, key = row.key): string {
  return `\`${key}\` | ${row.hasDefault ? `\`${jsonLiteral(row.value)}\`` : ''} | ${meaning(row)}`;
}

/**
 * docs/config.md's tables of keys, the core's and its built-in data sources',
 * written from their schemas (scripts/config-docs.mjs puts them there).
 */
export function configKeyTable(): string {
  const lines = ['| key | default | meaning |', '|---|---|---|'];
  for (const row of optionRows(coreConfigSchema)) lines.push(`| ${cells(row)} |`);
  lines.push('', 'The built-in data sources take these keys in `data`:', '', '| `data.source` | key | default | meaning |', '|---|---|---|---|');
  for (const source of [syntheticSource, shardsSource]) {
    for (const row of optionRows(source.schema).filter((r) => r.description)) lines.push(`| \`${source.name}\` | ${cells(row, `data.${row.key}`)} |`);
  }
  return lines.join('\n');
}

/** The marks around the generated table in docs/config.md. */
export const TABLE_START = "<!-- keys: written from the core's schemas by `npm run docs:config`; edit the schemas, not these tables -->";
export const TABLE_END = '<!-- /keys -->';
