import { compare } from './plugin.js';

export default compare;
export { compare, PLUGIN_NAME, comparePluginSchema } from './plugin.js';
export type { ComparePluginOptions } from './plugin.js';
export { compareRuns, compareRunsWithSeries, rank, defaultMode } from './compare.js';
export { readRun, expandRunDirs, seriesFromCsv } from './read-run.js';
export { renderTable, tableCells } from './table.js';
export { renderPlot } from './plot.js';
export { renderHtml, escapeHtml, commonMetrics } from './html.js';
export type { CompareRow, CompareOptions, RunData, Series, RunState } from './types.js';
