export { Trainer } from './trainer.js';
export type { TrainerOptions } from './trainer.js';
export { createTrainerHooks, withNamedErrors } from './hooks.js';
export type { TrainerHooks, HookName } from './hooks.js';
export { Stage } from './stages.js';
export type { StageName } from './stages.js';
export type * from './types.js';
export { TrainingState } from './state.js';
export type { TrainingStateSnapshot } from './state.js';
export { UserError, PluginError, isUserError } from './errors.js';
export type { Logger } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';

export { defineConfig } from './config/define.js';
export { coreConfigSchema } from './config/schema.js';
export type { UserConfig, ResolvedConfig, Activation, BackendName } from './config/schema.js';
export { storageConfigSchema, parseStorageUrl } from './config/storage.js';
export type { StorageConfig, ResolvedStorageConfig } from './config/storage.js';
export { urlScheme } from './remote-folder.js';
export type { RemoteFolder, OpenRemoteFolder } from './remote-folder.js';
export { loadConfig } from './config/load.js';
export type { LoadedConfig } from './config/load.js';
export { resolveConfig } from './config/resolve.js';
export type { Overrides } from './config/resolve.js';
export { validateWithSchema } from './config/validate.js';
export { parseSetValue } from './config/set.js';

export type { PokePlugin, PluginFactory, PluginSpec } from './plugins/types.js';
export { validatePluginOptions } from './plugins/options.js';
export type { OptionsOf, ResolvedOptionsOf, ValueOf } from './plugins/schema-types.js';
export { resolvePlugin, resolvePlugins, locatePlugin, candidatePackages } from './plugins/resolve.js';

export { ArrayDataset, splitIndices, epochOrder, firstInvalidSample } from './data/dataset.js';
export type { Batch, Dataset, Split } from './data/dataset.js';
export type { DataSource, DataSourceContext } from './data/source.js';
export { generateSynthetic, syntheticSource } from './data/synthetic.js';
export type { SyntheticOptions } from './data/synthetic.js';
export { readShards, readShardIndex, writeShards, shardsSource, shardIndexSchema, openShardSets } from './data/shards.js';
export { ShardStream } from './data/shard-stream.js';
export { ENCODINGS } from './data/encoding.js';
export type { EncodingName, FeatureEncoding } from './data/encoding.js';
export type { ShardIndex, ShardsOptions } from './data/shards.js';
export { readShardSets } from './data/shard-sets.js';

export { buildPolicy, forward, maskLogits, lossAndCorrect, predictActions, countParameters } from './model/policy.js';
export type { PolicySpec } from './model/policy.js';
export { selectBackend } from './backend/select.js';
export type { BackendChoice } from './backend/select.js';
export { patchWasmMatMul } from './backend/wasm-matmul.js';

export { claimRunDir, startRunInfo, autoResumeMode, readRunInfo, writeRunInfo, configForDisk, defaultRunName, latestRun } from './run/run-dir.js';
export { lockRunDir, LOCK_FILE } from './run/lock.js';
export type { RunInfo, ClaimedRun, ClaimMode } from './run/run-dir.js';
export { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic, fsyncDir, removeAtomicLeftovers, ATOMIC_TEMP_PATTERN } from './util/atomic.js';
export { redactSecrets, redactUrl, REDACTED, SECRET_KEY_PATTERN } from './util/redact.js';
export { Rng, deriveSeed } from './util/rng.js';
export { POKE_VERSION, TFJS_VERSION, versions, gitCommit } from './util/versions.js';
export {
  captureOptimizer, restoreOptimizer, captureWeights, restoreWeights, snapshotWeights, snapshotOptimizer,
} from './model/optimizer-state.js';
export type { OptimizerState, SavedTensor, TensorSnapshot, OptimizerSnapshot } from './model/optimizer-state.js';
export { failpoint } from './util/failpoint.js';
export { throttle } from './util/throttle.js';
export { plural } from './util/plural.js';
export { Spool, readSpool } from './tracking/spool.js';
export type { SpoolLine } from './tracking/spool.js';
export { readProgress, writeProgress } from './tracking/progress.js';
export type { SpoolProgress } from './tracking/progress.js';
export { SpoolSender, backoffMs } from './tracking/sender.js';
export type { SpoolBatch, SenderOptions, FlushResult } from './tracking/sender.js';
export type { BatchRules, DeliveryUnit } from './tracking/batches.js';
export { TrackerDelivery } from './tracking/delivery.js';
export type { TrackerProgress, TrackerStats, TrackerDeliveryOptions, DrainResult } from './tracking/delivery.js';
export { trackerFiles } from './tracking/files.js';
export type { TrackerFiles, TrackerFileNames } from './tracking/files.js';
export { trackerPlugin } from './tracking/tracker-plugin.js';
export type { TrackerDefinition, TrackerRun, TrackerStart } from './tracking/tracker-plugin.js';
export { syncTracker } from './tracking/sync.js';
export type { TrackerSyncDefinition } from './tracking/sync.js';
export { registerSyncCommand } from './tracking/sync-command.js';
export type { SyncCommandDefinition, SyncCommandContext, SyncOutcome, CommandLike } from './tracking/sync-command.js';
export { resumeConfig, readRecordedConfig, configAsRecorded, configDiff, shapeDiff, SHAPE_KEYS } from './config/resume.js';
export type { ResumeConfig } from './config/resume.js';

export { createHooksRegistry } from './hooks-registry.js';
export type { HooksRegistry } from './hooks-registry.js';
export { Monitor, inferMode, isBetter, betterFirst } from './monitor.js';
export type { MonitorMode } from './monitor.js';
export { describeDiskError } from './util/disk-errors.js';
