import { summary } from './support.js';

// Root hook: after every scenario, one table of what was injected and what was lost.
after(() => {
  const columns = ['scenario', 'runs', 'faults injected', 'runs resumed', 'records lost', 'notes'] as const;
  const rows = summary.map((s) => [s.scenario, String(s.runs), String(s.faults), String(s.resumed), String(s.recordsLost), s.notes ?? '']);
  const total = ['total', ...[1, 2, 3, 4].map((i) => String(rows.reduce((n, r) => n + Number(r[i]), 0))), ''];
  const all = [[...columns], ...rows, total];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  console.log('\nReliability summary');
  for (const [i, r] of all.entries()) {
    console.log('  ' + r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const lost = summary.reduce((n, s) => n + s.recordsLost, 0);
  if (lost !== 0) throw new Error(`${lost} records lost`);
});
