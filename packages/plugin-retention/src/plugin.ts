import { validatePluginOptions } from '@poke/core';
import type { PokePlugin, Trainer, Logger } from '@poke/core';
import { getCheckpointHooks, PLUGIN_NAME as CHECKPOINT_PLUGIN_NAME } from '@poke/plugin-checkpoint/hooks';
import type { CheckpointManager } from '@poke/plugin-checkpoint/hooks';
import { retentionOptionsSchema } from './schema.js';
import type { RetentionOptions, ResolvedRetention } from './schema.js';
import { selectForDeletion } from './policy.js';
import type { Deletion, RetentionPolicy } from './policy.js';

export const PLUGIN_NAME = 'poke:retention';

/** The policy for the checkpoints `manager` holds now. */
export function policyFor(options: ResolvedRetention, manager: CheckpointManager): RetentionPolicy {
  const { best, latest } = manager.currentManifest;
  const protectedIds = new Set<string>([...options.keep, ...manager.pinnedIds]);
  if (best) protectedIds.add(best);
  if (latest) protectedIds.add(latest);
  return {
    maxToKeep: options.maxToKeep,
    keepBest: options.keepBest === true ? 1 : options.keepBest === false ? 0 : options.keepBest,
    mode: manager.monitor.mode,
    ...(options.keepEvery ? { keepEvery: options.keepEvery } : {}),
    ...(options.maxTotalBytes !== undefined ? { maxTotalBytes: options.maxTotalBytes } : {}),
    protected: protectedIds,
  };
}

/** Apply the policy: delete what it selects (manifest first, then folders), each with its reason. */
export async function prune(options: ResolvedRetention, manager: CheckpointManager, logger: Logger, dryRun = false): Promise<Deletion[]> {
  const deletions = selectForDeletion(manager.list(), policyFor(options, manager));
  if (dryRun) return deletions;
  await manager.remove(deletions);
  const protectedBytes = manager.list().reduce((sum, e) => sum + e.bytes, 0);
  if (options.maxTotalBytes !== undefined && protectedBytes > options.maxTotalBytes) {
    logger.warn(`retention: checkpoints still take ${protectedBytes} bytes, over maxTotalBytes ${options.maxTotalBytes}: the rest is protected (best, latest, keep, keepEvery)`);
  }
  return deletions;
}

export function resolveRetentionOptions(options: unknown): ResolvedRetention {
  return validatePluginOptions(PLUGIN_NAME, retentionOptionsSchema, options);
}

/** Deletes checkpoints after each save, by the policy; needs the checkpoint plugin. */
export function retention(options?: RetentionOptions): PokePlugin & { readonly options: ResolvedRetention } {
  const resolved = resolveRetentionOptions(options);
  return {
    name: PLUGIN_NAME,
    options: resolved,
    apply(trainer: Trainer) {
      let active = false;
      trainer.hooks.setup.tap(PLUGIN_NAME, () => {
        active = trainer.plugins.some((p) => p.name === CHECKPOINT_PLUGIN_NAME);
        if (!active) trainer.logger.warn(`${PLUGIN_NAME}: no checkpoint plugin is enabled, so there is nothing to prune`);
      });
      getCheckpointHooks(trainer).saved.tapPromise(PLUGIN_NAME, async ({ manager }) => {
        await prune(resolved, manager, trainer.logger);
      });
    },
  };
}
