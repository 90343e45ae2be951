// Writes docs/config.md's table of keys from the core's schema (run after `tsc -b`;
// `npm run docs:config` does both). The CLI's tests fail while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configKeyTable, TABLE_START, TABLE_END } from '../packages/cli/dist/config-keys.js';

const doc = fileURLToPath(new URL('../docs/config.md', import.meta.url));
const text = readFileSync(doc, 'utf8');
const start = text.indexOf(TABLE_START);
const end = text.indexOf(TABLE_END);
if (start < 0 || end < start) throw new Error(`docs/config.md: the marks ${TABLE_START} … ${TABLE_END} are missing`);
writeFileSync(doc, `${text.slice(0, start + TABLE_START.length)}\n${configKeyTable()}\n${text.slice(end)}`);
