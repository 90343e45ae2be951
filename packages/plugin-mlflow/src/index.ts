import { mlflow } from './plugin.js';

export default mlflow;
export { mlflow, PLUGIN_NAME, resolveMlflowOptions } from './plugin.js';
export type { ResolvedMlflowOptions, MlflowPlugin } from './plugin.js';
export { MlflowClient, MlflowError, LIMITS, proxiedArtifactPath, splitCredentials } from './client.js';
export type { Metric, KeyValue, Run, RunInfo, RunStatus, Experiment, ArtifactFile, ClientOptions } from './client.js';
export { Delivery } from './delivery.js';
export type { DeliveryOptions, DeliveryStats } from './delivery.js';
export type { DrainResult } from '@poke/core';
export { Spool, readSpool, mlflowDir, readRunFile, readDelivered, MLFLOW_FILES, SPOOL_FILE, RUN_FILE, DELIVERED_FILE } from './spool.js';
export type { SpoolEntry, RunFile, Delivered } from './spool.js';
export { flattenParams, metricValue } from './params.js';
export { mlflowOptionsSchema } from './schema.js';
export type { MlflowOptions } from './schema.js';
export { syncRun } from './sync.js';
export type { SyncResult } from './sync.js';
