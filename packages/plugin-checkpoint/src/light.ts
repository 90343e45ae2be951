/**
 * `@poke/plugin-checkpoint/hooks`: what other plugins need from this one (its
 * hooks, its name, reading what it wrote) without the rest of the package. It
 * loads no tfjs, so a plugin that taps the checkpoint hooks or reads a manifest
 * stays as light as that.
 */
export { PLUGIN_NAME } from './name.js';
export { getCheckpointHooks } from './hooks.js';
export type { CheckpointHooks, BeforeSave, Saved, Loaded } from './hooks.js';
export { readManifest, MANIFEST_FILE, bestOf, byStep } from './manifest.js';
export type { CheckpointOrder } from './manifest.js';
export { readMetadata } from './read-json.js';
export { CheckpointError } from './errors.js';
export type { CheckpointManager } from './manager.js';
export type { FileRecord } from './checksum.js';
export type { CheckpointMetadata, Manifest, ManifestEntry, SaveReason } from './types.js';
