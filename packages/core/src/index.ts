/**
 * `@poke/core`: what plugins and users build on. The built-in packages also use
 * `@poke/core/internal` (run folders, atomic files, optimizer snapshots, the
 * failpoints of the chaos tests), which is not a stable interface; and plugins'
 * light hooks entries use `@poke/core/light`, which loads no tfjs.
 */

// The trainer and its hooks
export { Trainer } from './trainer.js';
export type { TrainerOptions } from './trainer.js';
export type { TrainerHooks, HookName } from './hooks.js';
export { Stage } from './stages.js';
export type { StageName } from './stages.js';
export type * from './types.js';
export type { TrainingState } from './state.js';
export type { TrainingStateSnapshot } from './state.js';
export { createHooksRegistry } from './hooks-registry.js';
export type { HooksRegistry } from './hooks-registry.js';
export { UserError, PluginError, isUserError } from './errors.js';
export { withNamedErrors } from './hooks.js';
export { validateWithSchema } from './config/validate.js';
export { describeDiskError } from './util/disk-errors.js';
export type { Logger } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';
export { Monitor, inferMode, isBetter, betterFirst } from './monitor.js';
export type { MonitorMode } from './monitor.js';
export { POKE_VERSION } from './util/versions.js';
export { Rng, deriveSeed } from './util/rng.js';

// Config
export { defineConfig } from './config/define.js';
export type { UserConfig, ResolvedConfig, Activation, BackendName } from './config/schema.js';
export { BACKENDS } from './config/schema.js';
export type { StorageConfig, ResolvedStorageConfig } from './config/storage.js';
export { loadConfig } from './config/load.js';
export type { LoadedConfig } from './config/load.js';
export { resolveConfig } from './config/resolve.js';
export type { Overrides } from './config/resolve.js';

// Plugins and their options
export type { PokePlugin, PluginFactory, PluginSpec } from './plugins/types.js';
export { validatePluginOptions } from './plugins/options.js';
export { Type, defineOptions, withDefault, choice } from './plugins/define-options.js';
export type { OptionsOf, ResolvedOptionsOf, TDefault, TSchema } from './plugins/define-options.js';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
export { urlScheme } from './remote-folder.js';
export type { RemoteFolder, OpenRemoteFolder } from './remote-folder.js';

// Data
export { ArrayDataset } from './data/dataset.js';
export type { Batch, Dataset, Split } from './data/dataset.js';
export type { DataSource, DataSourceContext } from './data/source.js';
export { generateSynthetic } from './data/synthetic.js';
export type { SyntheticOptions } from './data/synthetic.js';
export { readShards, readShardIndex, writeShards, openShardSets } from './data/shards.js';
export type { ShardIndex, ShardsOptions } from './data/shards.js';
export { readShardSets } from './data/shard-sets.js';
export { ShardStream } from './data/shard-stream.js';
export { ENCODINGS } from './data/encoding.js';
export type { EncodingName, FeatureEncoding } from './data/encoding.js';

// The model and backends
export { buildPolicy, predictActions, countParameters } from './model/policy.js';
export type { PolicySpec } from './model/policy.js';
export { selectBackend } from './backend/select.js';
export type { BackendChoice } from './backend/select.js';

// Writing a tracker (docs/plugins.md): spool, background sender, resume, sync command
export { trackerPlugin } from './tracking/tracker-plugin.js';
export type { TrackerDefinition, TrackerRun, TrackerStart } from './tracking/tracker-plugin.js';
export { TrackerDelivery } from './tracking/delivery.js';
export type { TrackerProgress, TrackerStats, TrackerDeliveryOptions, DrainResult } from './tracking/delivery.js';
export { deliveryOptions } from './tracking/delivery-options.js';
export type { BatchRules, DeliveryUnit } from './tracking/batches.js';
export { trackerFiles } from './tracking/files.js';
export type { TrackerFiles, TrackerFileNames } from './tracking/files.js';
export type { Spool, SpoolLine } from './tracking/spool.js';
export { syncTracker } from './tracking/sync.js';
export type { TrackerSyncDefinition } from './tracking/sync.js';
export { registerSyncCommand } from './tracking/sync-command.js';
export type { SyncCommandDefinition, SyncCommandContext, SyncOutcome, CommandLike } from './tracking/sync-command.js';
