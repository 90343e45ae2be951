import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './helpers.js';

const SRC = join(REPO_ROOT, 'packages', 'core', 'src');

/** Every .ts file under the core's src and the local files it imports (types included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const targets = [...text.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)\.js';/gm)].map((m) => resolve(dirname(path), `${m[1]}.ts`));
        graph.set(path, targets);
      }
    }
  };
  walk(SRC);
  return graph;
}

describe('the core import graph', () => {
  it('has no cycle, type imports included, but the one between a plugin and the trainer it applies to', () => {
    const graph = importGraph();
    // A PokePlugin's apply takes the Trainer, and the Trainer holds its plugins: one relation, seen from both sides.
    const allowed = new Set(['plugins/types.ts → trainer.ts → plugins/types.ts']);
    const entries = new Set(['index.ts', 'internal.ts', 'light.ts'].map((f) => join(SRC, f)));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) if (!entries.has(target)) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!entries.has(file)) visit(file, []);
    expect(cycles.filter((c) => !allowed.has(c))).to.deep.equal([]);
  });
});
