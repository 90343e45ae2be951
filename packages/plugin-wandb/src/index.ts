import { wandb } from './plugin.js';

export default wandb;
export { wandb, WandbPlugin, PLUGIN_NAME, EXIT_CODES, resolveWandbOptions, generateRunId, bestDirection } from './plugin.js';
export type { ResolvedWandbOptions } from './plugin.js';
export { WandbClient, WandbError, UPSERT_BUCKET, VIEWER } from './client.js';
export type { UpsertVars, FileStreamBody, ClientOptions } from './client.js';
export { parseNetrc, findApiKey, netrcHost, netrcPath, DEFAULT_BASE_URL } from './auth.js';
export type { NetrcEntry } from './auth.js';
export { Delivery, wandbConfig } from './delivery.js';
export type { DeliveryOptions, DeliveryStats, DrainResult } from './delivery.js';
export { Spool, readSpool, wandbDir, readRunFile, readDelivered, SPOOL_FILE, RUN_FILE, STATE_FILE } from './spool.js';
export type { SpoolEntry, RunFile, Delivered } from './spool.js';
export { wandbOptionsSchema, MODES } from './schema.js';
export type { WandbOptions, WandbMode } from './schema.js';
export { syncRun } from './sync.js';
export type { SyncResult } from './sync.js';
