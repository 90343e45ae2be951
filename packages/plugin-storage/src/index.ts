import { storage } from './plugin.js';

export default storage;
export { storage, PLUGIN_NAME, openStorage, checkAccess, defaultStorageOptions } from './plugin.js';
export type { StoragePlugin } from './plugin.js';
export { storageOptionsSchema } from './schema.js';
export type { StorageOptions, ResolvedStorageOptions } from './schema.js';
export { RunLayout, COMMIT_SUFFIX } from './layout.js';
export { parseMarker, MARKER_FORMAT } from './marker.js';
export type { CommitMarker } from './marker.js';
export { Bucket, fileDigest } from './remote.js';
export { pushCheckpoints, pushRunFiles } from './push.js';
export { pullRun, pullRunFiles } from './pull.js';
export { cacheShards, remoteShardsSource } from './shards-cache.js';
export { mirrorPrefix, uploadFolder } from './folder.js';
export type { MirrorOptions } from './folder.js';
