import { checkpoint } from './plugin.js';

export default checkpoint;
export { checkpoint, CheckpointPlugin, PLUGIN_NAME, loadPolicyModel } from './plugin.js';
export { CheckpointManager } from './manager.js';
export type { ReconcileReport, VerifyResult, ManagerOptions } from './manager.js';
export { getCheckpointHooks } from './hooks.js';
export type { CheckpointHooks, BeforeSave, Saved, Loaded } from './hooks.js';
export { checkpointIOHandler } from './io-handler.js';
export { readCheckpoint, checkpointId } from './format.js';
export { readMetadata } from './read-json.js';
export { readManifest, MANIFEST_FILE, bestOf, byStep } from './manifest.js';
export type { CheckpointOrder } from './manifest.js';
export { CheckpointError } from './errors.js';
export { METADATA_FILE } from './json-schemas.js';
export { checkpointOptionsSchema } from './schema.js';
export type { CheckpointOptions, ResolvedCheckpointOptions } from './schema.js';
export type { FileRecord } from './checksum.js';
export type { CheckpointMetadata, Manifest, ManifestEntry, LoadedCheckpoint, CheckpointContent, SaveReason } from './types.js';
