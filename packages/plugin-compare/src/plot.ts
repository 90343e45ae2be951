import asciichart from 'asciichart';
import type { RunData } from './types.js';
import { printable } from './table.js';

const COLORS = [asciichart.blue, asciichart.green, asciichart.red, asciichart.yellow, asciichart.magenta, asciichart.cyan];

/**
 * `metric` over steps, one line per run, in the terminal. Runs are resampled
 * onto one step grid (linear between logged steps) so the lines share the x
 * axis; before its first and after its last value a line stays flat.
 */
export function renderPlot(
  runs: readonly RunData[],
  metric: string,
  options: { color?: boolean; width?: number; height?: number; maxLines?: number } = {},
): string {
  const { color = false, width = 70, height = 14, maxLines = 12 } = options;
  const all = runs.filter((r) => (r.series[metric]?.length ?? 0) > 0);
  if (all.length === 0) return `no run has ${printable(metric)} in its metrics.csv`;
  // Runs come best first: past maxLines the chart is a blur, so the best ones are drawn.
  const withData = all.slice(0, maxLines);
  const steps = withData.flatMap((r) => r.series[metric]!.map(([s]) => s));
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  const grid = Array.from({ length: width }, (_, i) => lo + ((hi - lo) * i) / Math.max(width - 1, 1));
  const lines = withData.map((r) => {
    const points = r.series[metric]!;
    let j = 0;
    return grid.map((step) => {
      while (j + 1 < points.length && points[j + 1]![0] <= step) j++;
      const [s0, v0] = points[j]!;
      const next = points[j + 1];
      if (!next || step <= s0) return v0;
      return v0 + ((next[1] - v0) * (step - s0)) / (next[0] - s0);
    });
  });
  // Without colour (pipes, logs) the lines are told apart by the symbol in the legend's order.
  const chart = asciichart.plot(lines, { height, ...(color ? { colors: withData.map((_, i) => COLORS[i % COLORS.length]!) } : {}) });
  const legend = withData
    .map((r, i) => (color ? `${COLORS[i % COLORS.length]}━━${asciichart.reset} ${printable(r.row.name)}` : `${i + 1}. ${printable(r.row.name)}`))
    .join('   ');
  const more = all.length > withData.length ? ` (the best ${withData.length} of ${all.length} runs)` : '';
  return `${printable(metric)} over steps ${lo}–${hi}${more}\n${chart}\n${legend}`;
}
