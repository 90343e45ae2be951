import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tableCells } from './table.js';
import type { RunData } from './types.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
}

/** Run and metric names come from disk: escape everything that reaches the page. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Metrics every run with a metrics.csv has: those can be compared line against line. */
export function commonMetrics(runs: readonly RunData[]): string[] {
  const withCsv = runs.filter((r) => Object.keys(r.series).length > 0);
  if (withCsv.length === 0) return [];
  return Object.keys(withCsv[0]!.series).filter((m) => withCsv.every((r) => (r.series[m]?.length ?? 0) > 0));
}

/**
 * One self-contained page: the leaderboard and an interactive line chart per
 * common metric, one series per run. uPlot and its CSS are inlined; the page
 * loads nothing from the network.
 */
export function renderHtml(runs: readonly RunData[], title = 'poke compare'): string {
  const { js, css } = uplotAssets();
  const { header, body } = tableCells(runs.map((r) => r.row));
  const metrics = commonMetrics(runs);
  const data = {
    metrics,
    runs: runs.filter((r) => Object.keys(r.series).length > 0).map((r) => ({ name: r.row.name, series: Object.fromEntries(metrics.map((m) => [m, r.series[m]])) })),
  };
  const rowsHtml = body
    .map((cells, i) => `<tr class="${runs[i]!.row.rank === 1 ? 'best' : ''}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const first = runs[0]?.row;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<style>${css}
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2733; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } p.sub { color: #5b6b7c; margin: 0 0 16px; }
table { border-collapse: collapse; margin-bottom: 24px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e8ee; text-align: left; white-space: nowrap; }
th { background: #f4f6f9; font-weight: 600; } tr.best td { background: #eef8ee; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.chart { border: 1px solid #e3e8ee; border-radius: 6px; padding: 8px; } .chart h2 { font-size: 14px; margin: 0 0 6px; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${first ? `ranked by ${escapeHtml(first.metric)} (${first.mode}), best first; ${runs.length} runs` : 'no runs'}</p>
<table id="leaderboard"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rowsHtml}
</tbody></table>
<div class="charts" id="charts"></div>
<script>${js}</script>
<script>
const DATA = ${scriptJson(data)};
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#ca8a04', '#9333ea', '#0891b2', '#ea580c', '#4b5563'];
for (const metric of DATA.metrics) {
  const box = document.createElement('div');
  box.className = 'chart';
  const h = document.createElement('h2');
  h.textContent = metric;
  box.appendChild(h);
  document.getElementById('charts').appendChild(box);
  const steps = [...new Set(DATA.runs.flatMap((r) => r.series[metric].map((p) => p[0])))].sort((a, b) => a - b);
  const columns = DATA.runs.map((r) => {
    const at = new Map(r.series[metric]);
    return steps.map((s) => (at.has(s) ? at.get(s) : null));
  });
  const chart = new uPlot({
    width: 500, height: 260,
    scales: { x: { time: false } },
    series: [{ label: 'step' }, ...DATA.runs.map((r, i) => ({ label: r.name, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true }))],
    axes: [{ label: 'step' }, { size: 70 }],
  }, [steps, ...columns], box);
  box.dataset.metric = metric;
  box.dataset.series = String(chart.series.length - 1);
}
document.body.dataset.rendered = 'true';
</script>
</body></html>
`;
}
