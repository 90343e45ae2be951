import asciichart from 'asciichart';
import type { RunData } from './types.js';

const COLORS = [asciichart.blue, asciichart.green, asciichart.red, asciichart.yellow, asciichart.magenta, asciichart.cyan];

/**
 * `metric` over steps, one line per run, in the terminal. Runs are resampled
 * onto one step grid (the last value at or before each step) so the lines share
 * the x axis; before its first value a line starts flat at that value.
 */
export function renderPlot(runs: readonly RunData[], metric: string, options: { color?: boolean; width?: number; height?: number } = {}): string {
  const { color = false, width = 70, height = 14 } = options;
  const withData = runs.filter((r) => (r.series[metric]?.length ?? 0) > 0);
  if (withData.length === 0) return `no run has ${metric} in its metrics.csv`;
  const steps = withData.flatMap((r) => r.series[metric]!.map(([s]) => s));
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  const grid = Array.from({ length: width }, (_, i) => lo + ((hi - lo) * i) / Math.max(width - 1, 1));
  const lines = withData.map((r) => {
    const points = r.series[metric]!;
    let j = 0;
    return grid.map((step) => {
      while (j + 1 < points.length && points[j + 1]![0] <= step) j++;
      return points[j]![1];
    });
  });
  // Without colour (pipes, logs) the lines are told apart by the symbol in the legend's order.
  const chart = asciichart.plot(lines, { height, ...(color ? { colors: withData.map((_, i) => COLORS[i % COLORS.length]!) } : {}) });
  const legend = withData.map((r, i) => (color ? `${COLORS[i % COLORS.length]}━━${asciichart.reset} ${r.row.name}` : `${i + 1}. ${r.row.name}`)).join('   ');
  return `${metric} over steps ${lo}–${hi}\n${chart}\n${legend}`;
}
