import { retention } from './plugin.js';

export default retention;
export { retention, prune, policyFor, resolveRetentionOptions, PLUGIN_NAME } from './plugin.js';
export { selectForDeletion, topK } from './policy.js';
export type { RetentionEntry, RetentionPolicy, Deletion } from './policy.js';
export { retentionOptionsSchema } from './schema.js';
export type { RetentionOptions, ResolvedRetention } from './schema.js';
