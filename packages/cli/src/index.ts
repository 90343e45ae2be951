export { main } from './main.js';
export type { CommandContext, RegisterCommand } from './context.js';
export { progressPlugin, summaryLine } from './progress.js';
export { countedProgress } from './counted-progress.js';
export type { CountedProgress } from './counted-progress.js';
export { parsePluginFlag } from './commands/train.js';
