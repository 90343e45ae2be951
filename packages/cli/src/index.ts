export { main } from './main.js';
export type { CommandContext, RegisterCommand } from './context.js';
export { progressPlugin, summaryLine } from './progress.js';
export { parsePluginFlag } from './commands/train.js';
