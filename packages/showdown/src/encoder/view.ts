import { Battle } from '@pkmn/client';
import type { Side } from '@pkmn/client';
import { generations } from '../dex.js';
import type { SimRequest } from '../actions.js';

export type SideID = 'p1' | 'p2';

/**
 * One player's view of a battle: a @pkmn/client Battle fed only the protocol lines
 * that player receives (its own side's secret lines, everyone else's public ones),
 * plus its latest request. Self-play and replay import both build features from it.
 */
export class PlayerView {
  readonly battle: Battle;
  request: SimRequest | undefined;

  constructor(readonly side: SideID) {
    this.battle = new Battle(generations);
  }

  get own(): Side {
    return this.side === 'p1' ? this.battle.p1 : this.battle.p2;
  }

  get foe(): Side {
    return this.side === 'p1' ? this.battle.p2 : this.battle.p1;
  }

  /** Feed protocol lines that are already this player's channel (no `|split|` blocks). */
  addLines(lines: readonly string[]): void {
    for (const line of lines) {
      if (!line.startsWith('|') || line.startsWith('|request|') || line.startsWith('|t:|')) continue;
      this.battle.add(line);
    }
  }
}

/**
 * The lines of raw simulator output as seen by `channel`: `|split|pN` is followed by
 * a secret line (for pN and the omniscient view, -1) and a public one (everyone else).
 * Text without split blocks passes through unchanged.
 */
export function channelLines(text: string | readonly string[], channel: SideID | -1 | 0): string[] {
  const lines = typeof text === 'string' ? text.split('\n') : text;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('|split|')) {
      const owner = line.slice(7);
      const secret = lines[i + 1];
      const shared = lines[i + 2];
      i += 2;
      const pick = channel === -1 || channel === owner ? secret : shared;
      if (pick) out.push(pick);
    } else {
      out.push(line);
    }
  }
  return out;
}
