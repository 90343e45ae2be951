import { Dex } from '@pkmn/dex';
import { Generations } from '@pkmn/data';
import type { ModdedDex, Move, Species, TypeName } from '@pkmn/dex';

/** One Generations instance for every client-side battle (it caches its data). */
export const generations = new Generations(Dex);

const dexes = new Map<number, ModdedDex>();
export function dexFor(gen: number): ModdedDex {
  let dex = dexes.get(gen);
  if (!dex) dexes.set(gen, (dex = Dex.forGen(gen as 9)));
  return dex;
}

const moveCache = new Map<string, Move>();
export function moveData(id: string, gen = 9): Move {
  const key = `${gen}:${id}`;
  let move = moveCache.get(key);
  if (!move) moveCache.set(key, (move = dexFor(gen).moves.get(id)));
  return move;
}

const speciesCache = new Map<string, Species>();
export function speciesData(name: string, gen = 9): Species {
  const key = `${gen}:${name}`;
  let species = speciesCache.get(key);
  if (!species) speciesCache.set(key, (species = dexFor(gen).species.get(name)));
  return species;
}

/** Damage multiplier of an attacking type against a (possibly dual) defending type: 0, ¼, ½, 1, 2 or 4. */
export function effectiveness(attack: string, defenders: readonly string[], gen = 9): number {
  let m = 1;
  const dex = dexFor(gen);
  for (const t of defenders) {
    const taken = dex.types.get(t)?.damageTaken?.[attack as TypeName];
    if (taken === 1) m *= 2;
    else if (taken === 2) m *= 0.5;
    else if (taken === 3) return 0;
  }
  return m;
}

/** Average number of hits of a multi-hit move (2–5 hits average 3.1 in gen 5+). */
export function averageHits(move: Move): number {
  const hits = move.multihit;
  if (Array.isArray(hits)) return hits[0] === 2 && hits[1] === 5 ? 3.1 : (hits[0] + hits[1]) / 2;
  return typeof hits === 'number' ? hits : 1;
}

/**
 * Base power the heuristics use: the move's own, or an equivalent for moves that deal
 * fixed damage (Seismic Toss, Night Shade: 80) or whose power varies (treated as 60).
 */
export function effectivePower(move: Move): number {
  // Recharge (and anything the dex does not know) is not a damaging move.
  if (!move.exists || move.category === 'Status') return 0;
  if (move.damage === 'level') return 80;
  if (typeof move.damage === 'number') return 60;
  if (move.basePower > 0) return move.basePower;
  return move.id === 'struggle' ? 50 : 60;
}

/** Accuracy as a probability; 1 for moves that never miss (and for unknown ones). */
export function accuracyOf(move: Move): number {
  return typeof move.accuracy === 'number' ? move.accuracy / 100 : 1;
}
