/**
 * `@poke/core/light`: the part of the core that loads no tfjs. A plugin's light
 * hooks entry (`@poke/plugin-checkpoint/hooks`) imports the core from here, so
 * that tapping another plugin's hooks or reading its files never loads a tensor
 * library. Everything here is also exported by `@poke/core`.
 */
export { createHooksRegistry } from './hooks-registry.js';
export type { HooksRegistry } from './hooks-registry.js';
export { withNamedErrors } from './hooks.js';
export { Stage } from './stages.js';
export type { StageName } from './stages.js';
export { Monitor, inferMode, isBetter, betterFirst } from './monitor.js';
export type { MonitorMode } from './monitor.js';
export { UserError, PluginError, isUserError } from './errors.js';
export { validateWithSchema } from './config/validate.js';
export { writeJsonAtomic } from './util/atomic.js';
export { describeDiskError } from './util/disk-errors.js';
// Seeds and seeded streams, for the simulator's worker threads, which should not load tfjs.
export { Rng, deriveSeed } from './util/rng.js';
