import { compare } from './plugin.js';

export default compare;
export { compare, PLUGIN_NAME, comparePluginSchema } from './plugin.js';
export type { ComparePluginOptions } from './plugin.js';
export { compareRuns, compareRunsWithSeries, rank, resolveOptions } from './compare.js';
export { readRun, expandRunDirs, seriesFromCsv, readSeries, bestOfSeries, WIN_RATE } from './read-run.js';
export type { SkippedLine } from './read-run.js';
export { readEvals } from './eval.js';
export { renderTable, tableCells } from './table.js';
export { renderPlot } from './plot.js';
export { renderHtml, escapeHtml, commonMetrics } from './html.js';
export { compareRowSchema, compareOutputSchema, evalResultSchema } from './schema.js';
export type { CompareRow, CompareOptions, RunData, Series, RunState, EvalResult } from './types.js';
