import { betterFirst } from '@poke/core';
import type { MonitorMode } from '@poke/core';
import { byStep } from '@poke/plugin-checkpoint/hooks';

/** What the policy needs to know about one checkpoint (a line of checkpoints.json). */
export interface RetentionEntry {
  readonly id: string;
  readonly epoch: number;
  readonly step: number;
  /** The monitored value; null for saves between validations. */
  readonly value: number | null;
  readonly bytes: number;
  readonly reason: string;
}

export interface RetentionPolicy {
  readonly maxToKeep: number;
  /** How many of the best to keep: 0 for none. */
  readonly keepBest: number;
  readonly mode: MonitorMode;
  readonly keepEvery?: { readonly epochs: number } | { readonly steps: number };
  readonly maxTotalBytes?: number;
  /** Never deleted: the current best, the latest, ids listed in `keep`, checkpoints a resume is reading. */
  readonly protected: ReadonlySet<string>;
}

export interface Deletion {
  readonly id: string;
  readonly reason: string;
}

/** The k best by value; on a tie the earlier checkpoint ranks higher, as for the best itself. */
export function topK(entries: readonly RetentionEntry[], k: number, mode: MonitorMode): RetentionEntry[] {
  const scored = entries.filter((e) => e.value !== null && Number.isFinite(e.value));
  const better = betterFirst(mode);
  scored.sort((a, b) => better(a.value!, b.value!) || byStep(a, b));
  return scored.slice(0, k);
}

function isMilestone(entry: RetentionEntry, every: RetentionPolicy['keepEvery']): boolean {
  if (!every) return false;
  // An end-of-epoch checkpoint is the one saved after validation (or by an `every: 'epoch'` trigger).
  if ('epochs' in every) return (entry.reason === 'validation' || entry.reason === 'epoch') && entry.epoch % every.epochs === 0;
  return entry.step % every.steps === 0;
}

/**
 * Which checkpoints to delete, and why. Pure: it depends only on the entries
 * and the policy, so a manifest restored after a resume gives the same answer
 * as the run that wrote it (the top k are re-derived, never forgotten).
 *
 * Kept: the protected set, the `maxToKeep` most recent, the `keepBest` best,
 * and milestones (`keepEvery`). Then, under `maxTotalBytes`, unprotected
 * checkpoints go oldest first, milestones last, until the total fits.
 */
export function selectForDeletion(entries: readonly RetentionEntry[], policy: RetentionPolicy): Deletion[] {
  const ordered = [...entries].sort(byStep);
  const recent = new Set(ordered.slice(-policy.maxToKeep).map((e) => e.id));
  const best = new Set(topK(ordered, policy.keepBest, policy.mode).map((e) => e.id));
  const deletions: Deletion[] = [];
  const kept: RetentionEntry[] = [];
  for (const entry of ordered) {
    if (policy.protected.has(entry.id) || recent.has(entry.id) || best.has(entry.id) || isMilestone(entry, policy.keepEvery)) kept.push(entry);
    else deletions.push({ id: entry.id, reason: `older than the ${policy.maxToKeep} most recent and not among the ${policy.keepBest} best` });
  }
  if (policy.maxTotalBytes !== undefined) {
    let total = kept.reduce((sum, e) => sum + e.bytes, 0);
    const removable = kept
      .filter((e) => !policy.protected.has(e.id))
      .sort((a, b) => Number(isMilestone(a, policy.keepEvery)) - Number(isMilestone(b, policy.keepEvery)) || byStep(a, b));
    for (const entry of removable) {
      if (total <= policy.maxTotalBytes) break;
      deletions.push({ id: entry.id, reason: `total size over maxTotalBytes ${policy.maxTotalBytes}` });
      total -= entry.bytes;
    }
  }
  return deletions;
}
