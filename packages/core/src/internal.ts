/**
 * `@poke/core/internal`: what the built-in packages (@poke/cli, the plugins,
 * @poke/showdown) share beyond the public API. Not a stable interface: names
 * here change with the packages that use them, in one release.
 */
export { createTrainerHooks } from './hooks.js';
export { TrainingState } from './state.js';
export { parseSetValue } from './config/set.js';
export { coreConfigSchema, ACTIVATIONS, BACKENDS } from './config/schema.js';
export { storageConfigSchema, parseStorageUrl } from './config/storage.js';
export { syntheticSource } from './data/synthetic.js';
export { shardsSource, shardIndexSchema } from './data/shards.js';
export { resumeConfig, readRecordedConfig, configAsRecorded, configDiff, shapeDiff, SHAPE_KEYS } from './config/resume.js';
export type { ResumeConfig } from './config/resume.js';
export { resolvePlugin, resolvePlugins, locatePlugin, candidatePackages } from './plugins/resolve.js';
export { optionRows, defaultsOf } from './plugins/option-rows.js';
export type { OptionRow } from './plugins/option-rows.js';

export { splitIndices, epochOrder, firstInvalidSample } from './data/dataset.js';
export { forward, maskLogits, lossAndCorrect } from './model/policy.js';
export { dropoutMultiplier } from './model/dropout.js';
export { nativeTrainStep } from './backend/native-step.js';
export { patchWasmMatMul } from './backend/wasm-matmul.js';
export { NATIVE_PACKAGES } from './backend/select.js';
export { heldBytes } from './backend/held-bytes-of.js';
export type { HeldBytes } from './backend/held-bytes.js';
export { FlatAdam } from './model/flat-adam.js';
export type { NamedSlot } from './model/flat-adam.js';
export {
  captureOptimizer, restoreOptimizer, captureWeights, restoreWeights, snapshotWeights, snapshotOptimizer,
} from './model/optimizer-state.js';
export type { OptimizerState, SavedTensor, TensorSnapshot, OptimizerSnapshot } from './model/optimizer-state.js';

export { claimRunDir, startRunInfo, autoResumeMode, readRunInfo, writeRunInfo, configForDisk, defaultRunName, latestRun } from './run/run-dir.js';
export { lockRunDir, LOCK_FILE } from './run/lock.js';
export type { RunInfo, ClaimedRun, ClaimMode } from './run/run-dir.js';
export { writeFileAtomicSync, fsyncDir, removeAtomicLeftovers, ATOMIC_TEMP_PATTERN } from './util/atomic.js';
export { redactSecrets, redactUrl, REDACTED, SECRET_KEY_PATTERN } from './util/redact.js';
export { TFJS_VERSION, versions, gitCommit } from './util/versions.js';
export { failpoint } from './util/failpoint.js';
export { throttle } from './util/throttle.js';
export { plural } from './util/plural.js';

export { Spool, readSpool } from './tracking/spool.js';
export { readProgress, writeProgress } from './tracking/progress.js';
export type { SpoolProgress } from './tracking/progress.js';
export { SpoolSender, backoffMs } from './tracking/sender.js';
export type { SpoolBatch, SenderOptions, FlushResult } from './tracking/sender.js';
