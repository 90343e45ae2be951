/**
 * Demonstrations of one range of battles, played on the calling thread. The generation worker
 * threads load this module alone: it must not import the core's tfjs side.
 */
import { deriveSeed } from '@poke/core/light';
import { builtinAgent, playBattle } from './battle.js';
import type { Agent, Decision } from './battle.js';
import type { SideID } from './encoder/view.js';
import { packRows } from './pack-rows.js';
import type { Demonstrator, Opponent } from './generate.js';

export interface GeneratedChunk {
  features: Float32Array;
  labels: Int32Array;
  masks: Uint8Array;
  battles: number;
  expertWins: number;
  turns: number;
  logs?: Array<{ log: string; p1: string; p2: string }>;
}

/** Battle `i` of a generation run: its seed, its players (the demonstrator is always p1) and the sides recorded. */
export function battleSpec(
  options: { seed: number; opponent: Opponent; player?: Demonstrator },
  i: number,
): { seed: number; p1: Agent; p2: Agent; record: SideID[] } {
  const player = options.player ?? 'expert';
  return {
    seed: deriveSeed(options.seed, 'battle', i),
    p1: builtinAgent(player, deriveSeed(options.seed, 'player', i)),
    p2: builtinAgent(options.opponent, deriveSeed(options.seed, 'opponent', i)),
    record: options.opponent === player ? ['p1', 'p2'] : ['p1'],
  };
}

export function packDecisions(decisions: readonly Decision[]): Pick<GeneratedChunk, 'features' | 'labels' | 'masks'> {
  return { ...packRows(decisions), labels: Int32Array.from(decisions, (d) => d.action) };
}

/** Play battles [start, end) in this thread. */
export function generateRange(
  options: { format: string; seed: number; opponent: Opponent; player?: Demonstrator; keepLogs?: boolean },
  start: number,
  end: number,
  onBattle?: () => void,
): GeneratedChunk {
  const decisions: Decision[] = [];
  let expertWins = 0;
  let turns = 0;
  const logs: Array<{ log: string; p1: string; p2: string }> = [];
  for (let i = start; i < end; i++) {
    const spec = battleSpec(options, i);
    const result = playBattle({ format: options.format, ...spec, keepLog: options.keepLogs ?? false });
    decisions.push(...result.decisions);
    if (result.winner === 'p1') expertWins++;
    turns += result.turns;
    if (result.log && result.playerLogs) logs.push({ log: result.log, ...result.playerLogs });
    onBattle?.();
  }
  return { ...packDecisions(decisions), battles: end - start, expertWins, turns, ...(options.keepLogs ? { logs } : {}) };
}
