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

const TEXT_COLUMNS = new Set(['run', 'best checkpoint', 'status']);

/**
 * One self-contained page: the leaderboard and an interactive line chart per
 * common metric (the ranking metric first), one series per run. uPlot and its
 * CSS are inlined and a Content-Security-Policy forbids loading anything, so
 * the page works offline. Every string from disk is escaped (HTML) or
 * embedded as JSON that cannot close the script element, and reaches the DOM
 * through textContent only.
 *
 * When it has rendered, the page sets `data-rendered="true"` on <body>; each
 * chart's box carries `data-metric` and `data-series` (the chart's series
 * count, read from the uPlot object).
 */
export function renderHtml(runs: readonly RunData[], title = 'poke compare'): string {
  const { js, css } = uplotAssets();
  const { header, body, key } = tableCells(runs.map((r) => r.row));
  const first = runs[0]?.row;
  const common = commonMetrics(runs);
  const metrics = first && common.includes(first.metric) ? [first.metric, ...common.filter((m) => m !== first.metric)] : common;
  const charted = runs.filter((r) => Object.keys(r.series).length > 0);
  const data = {
    metrics,
    runs: charted.map((r) => ({ name: r.row.name, series: Object.fromEntries(metrics.map((m) => [m, r.series[m]])) })),
  };
  const cls = (h: string, i: number) => [TEXT_COLUMNS.has(h) ? '' : 'num', i === key ? 'key' : ''].filter(Boolean).join(' ');
  const headHtml = header.map((h, i) => `<th class="${cls(h, i)}">${escapeHtml(h)}</th>`).join('');
  const rowsHtml = body
    .map((cells, i) => {
      const row = runs[i]!.row;
      const rowClass = row.rank === 1 ? 'best' : row.value === null ? 'missing' : '';
      return `<tr class="${rowClass}">${cells.map((c, j) => `<td class="${cls(header[j]!, j)}">${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const ranked = runs.filter((r) => r.row.rank !== null).length;
  const subtitle = first
    ? `ranked by <b>${escapeHtml(first.metric)}</b> (${first.mode === 'min' ? 'lower' : 'higher'} is better), best first; ${ranked} of ${runs.length} runs have it`
    : 'no runs';
  const chartNote =
    metrics.length === 0
      ? '<p class="sub">No metric is logged by every run with a metrics.csv, so there is nothing to chart.</p>'
      : charted.length < runs.length
        ? `<p class="sub">${runs.length - charted.length} run(s) without a metrics.csv are not charted.</p>`
        : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<style>${css}
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 28px 32px; color: #1d2733; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; font-weight: 650; }
h2.section { font-size: 15px; margin: 28px 0 10px; font-weight: 600; color: #334155; }
p.sub { color: #5b6b7c; margin: 0 0 14px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; border-bottom: 1px solid #e3e8ee; text-align: left; white-space: nowrap; }
th { background: #f4f6f9; font-weight: 600; color: #334155; font-size: 13px; }
th.num, td.num { text-align: right; }
th.key { background: #e7eefc; } td.key { font-weight: 600; }
tr.best td { background: #eef8ee; } tr.best td.key { background: #e2f3e2; }
tr.missing td { color: #8795a5; }
tbody tr:hover td { background: #f7f9fc; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 18px; }
.chart { border: 1px solid #e3e8ee; border-radius: 8px; padding: 10px 12px 6px; min-width: 0; }
.chart h3 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
.chart.key { border-color: #9db6ee; box-shadow: 0 0 0 1px #c9d8f7; }
.uplot { font-family: inherit; } .u-legend { font-size: 12px; }
</style></head>
<body data-runs="${charted.length}">
<h1>${escapeHtml(title)}</h1>
<p class="sub">${subtitle}</p>
<div class="table-wrap"><table id="leaderboard"><thead><tr>${headHtml}</tr></thead><tbody>
${rowsHtml}
</tbody></table></div>
<h2 class="section">Metrics over global steps</h2>
${chartNote}
<div class="charts" id="charts"></div>
<script>${js}</script>
<script>
const DATA = ${scriptJson(data)};
const KEY = ${scriptJson(first?.metric ?? null)};
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#ca8a04', '#9333ea', '#0891b2', '#ea580c', '#4b5563', '#db2777', '#65a30d'];
// Tick labels with as many decimals as the tick spacing needs (uPlot's default rounds 0.0015 to 0.002).
function ticks(u, splits) {
  const gap = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : Math.abs(splits[0] || 1);
  const decimals = gap > 0 ? Math.min(8, Math.max(0, -Math.floor(Math.log10(gap) + 1e-9))) : 2;
  return splits.map((v) => (v == null ? '' : Math.abs(v) >= 1e4 ? Math.round(v).toLocaleString('en-US') : v.toFixed(decimals)));
}
function legendValue(u, v) {
  return v == null ? '–' : Math.abs(v) >= 1e4 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(5)).toString();
}
const charts = [];
function widthOf(box) { return Math.max(300, box.clientWidth - 24); }
for (const metric of DATA.metrics) {
  const box = document.createElement('div');
  box.className = metric === KEY ? 'chart key' : 'chart';
  const h = document.createElement('h3');
  h.textContent = metric;
  box.appendChild(h);
  document.getElementById('charts').appendChild(box);
  const steps = [...new Set(DATA.runs.flatMap((r) => r.series[metric].map((p) => p[0])))].sort((a, b) => a - b);
  const columns = DATA.runs.map((r) => {
    const at = new Map(r.series[metric]);
    return steps.map((s) => (at.has(s) ? at.get(s) : null));
  });
  const chart = new uPlot({
    width: widthOf(box), height: 260,
    scales: { x: { time: false } },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: 'step' },
      ...DATA.runs.map((r, i) => ({ label: r.name, stroke: PALETTE[i % PALETTE.length], width: 1.6, spanGaps: true, points: { size: 4 }, value: legendValue })),
    ],
    axes: [{ label: 'global step', labelSize: 24, labelFont: '600 12px system-ui, sans-serif' }, { size: 64, values: ticks }],
  }, [steps, ...columns], box);
  charts.push([chart, box]);
  box.dataset.metric = metric;
  box.dataset.series = String(chart.series.length - 1);
}
window.addEventListener('resize', () => { for (const [chart, box] of charts) chart.setSize({ width: widthOf(box), height: 260 }); });
document.body.dataset.rendered = 'true';
</script>
</body></html>
`;
}
