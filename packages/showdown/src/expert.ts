/**
 * The expert: a documented, deterministic heuristic that only reads the deciding
 * player's own view (its request and the client-side battle state).
 *
 * - A move's expected damage score is
 *     power × STAB × type multiplier vs the foe's active × accuracy × average hits × attacking stat / 250,
 *   power being the base power (80 for level-damage moves, 60 for other fixed or variable damage).
 *   STAB is 1.5 for the user's types; after terastallizing, 2 when the tera type is also an original type.
 * - Forced to switch: the bench Pokémon with the best matchup, where
 *     matchup = (best expected damage score + 1) / max(threat, ¼) × (½ + ½ HP fraction)
 *   and threat is the best multiplier of the foe active's types (and its revealed moves) against it.
 * - Otherwise it switches out of a bad matchup — threatened super-effectively while
 *   its own best move is resisted or weak (score < 60) — when a bench Pokémon's matchup is
 *   at least 1.5× the active's; it terastallizes when that raises the best score by 1.5×;
 *   else it uses the move with the best score (the first legal move when none deals damage).
 * Ties go to the lowest action index, so the expert is a function of the view.
 */
import { accuracyOf, averageHits, effectivePower, effectiveness, moveData, speciesData } from './dex.js';
import { ACTION_COUNT, SWITCH_OFFSET, TERA_OFFSET, isFainted } from './actions.js';
import type { SimRequest } from './actions.js';
import type { PlayerView } from './encoder/view.js';
import type { Pokemon as ClientPokemon } from '@pkmn/client';

type RequestPokemon = SimRequest['side']['pokemon'][number];

export function speciesOfDetails(details: string): string {
  const comma = details.indexOf(',');
  return comma < 0 ? details : details.slice(0, comma);
}

/** Current types of an own Pokémon from its request entry (the tera type once terastallized). */
export function requestTypes(p: RequestPokemon): string[] {
  if (p.terastallized && p.terastallized !== 'Stellar') return [p.terastallized];
  return [...speciesData(speciesOfDetails(p.details)).types];
}

export function originalTypes(p: RequestPokemon): string[] {
  return [...speciesData(speciesOfDetails(p.details)).types];
}

/** Types of the foe's active as the player sees them. */
export function foeTypes(p: ClientPokemon | null | undefined): string[] {
  if (!p) return [];
  if (p.terastallized && p.terastallized !== 'Stellar') return [p.terastallized];
  return [...p.types];
}

export function hpFraction(condition: string): number {
  if (isFainted(condition)) return 0;
  const slash = condition.indexOf('/');
  if (slash < 0) return 0;
  const hp = parseFloat(condition.slice(0, slash));
  const max = parseFloat(condition.slice(slash + 1));
  return max > 0 ? Math.min(1, hp / max) : 0;
}

export function statusOf(condition: string): string | undefined {
  const space = condition.indexOf(' ');
  if (space < 0) return undefined;
  const status = condition.slice(space + 1);
  return status === 'fnt' ? undefined : status;
}

export function stab(moveType: string, original: readonly string[], tera: string | undefined): number {
  if (tera && tera !== 'Stellar') {
    if (moveType === tera) return original.includes(tera) ? 2 : 1.5;
    return original.includes(moveType) ? 1.5 : 1;
  }
  return original.includes(moveType) ? 1.5 : 1;
}

/** Expected damage score of one move (see the module comment). 0 for status moves. */
export function moveScore(
  moveId: string,
  original: readonly string[],
  tera: string | undefined,
  stats: RequestPokemon['stats'],
  defender: readonly string[],
): number {
  const move = moveData(moveId);
  const power = effectivePower(move);
  if (power === 0) return 0;
  const eff = defender.length ? effectiveness(move.type, defender) : 1;
  const accuracy = accuracyOf(move);
  const stat = move.category === 'Physical' ? stats.atk : stats.spa;
  const fixed = move.damage === 'level' || typeof move.damage === 'number';
  return power * (fixed ? 1 : stab(move.type, original, tera)) * (fixed ? (eff > 0 ? 1 : 0) : eff) * accuracy * averageHits(move) * (fixed ? 1 : stat / 250);
}

/** Best multiplier the foe's active (its types and revealed damaging moves) has against `types`. */
export function threatAgainst(view: PlayerView, types: readonly string[]): { byType: number; byMoves: number } {
  const foe = view.foe.active[0];
  if (!foe || foe.fainted) return { byType: 1, byMoves: 0 };
  let byType = 0;
  for (const t of foeTypes(foe)) byType = Math.max(byType, effectiveness(t, types));
  let byMoves = 0;
  for (const slot of foe.moveSlots) {
    const move = moveData(slot.id);
    if (move.category === 'Status' || effectivePower(move) === 0) continue;
    byMoves = Math.max(byMoves, effectiveness(move.type, types));
  }
  return { byType, byMoves };
}

/** Best expected damage score of a team member against the foe's active (no tera). */
export function bestScoreOf(view: PlayerView, p: RequestPokemon): number {
  const defender = foeTypes(view.foe.active[0]);
  const original = originalTypes(p);
  const tera = p.terastallized;
  let best = 0;
  for (const id of p.moves) best = Math.max(best, moveScore(id, original, tera, p.stats, defender));
  return best;
}

export function matchupOf(view: PlayerView, p: RequestPokemon): number {
  const threat = threatAgainst(view, requestTypes(p));
  return ((bestScoreOf(view, p) + 1) / Math.max(threat.byType, threat.byMoves, 0.25)) * (0.5 + 0.5 * hpFraction(p.condition));
}

/** The expert's action for the view's current request; `mask` must be that request's legal actions. */
export function expertAction(view: PlayerView, mask: Uint8Array): number {
  const request = view.request!;
  const team = request.side.pokemon;
  let bestSwitch = -1;
  let bestSwitchValue = -Infinity;
  for (let a = SWITCH_OFFSET; a < ACTION_COUNT; a++) {
    if (!mask[a]) continue;
    const value = matchupOf(view, team[a - SWITCH_OFFSET + 1]!);
    if (value > bestSwitchValue) {
      bestSwitch = a;
      bestSwitchValue = value;
    }
  }
  if (request.forceSwitch?.[0] || !request.active?.[0]) return bestSwitch >= 0 ? bestSwitch : firstLegal(mask);

  const active = request.active[0]!;
  const me = team[0]!;
  const defender = foeTypes(view.foe.active[0]);
  const original = originalTypes(me);
  let best = -1;
  let bestScore = 0;
  let bestTera = -1;
  let bestTeraScore = 0;
  let bestEff = 0;
  active.moves.slice(0, 4).forEach((m, i) => {
    if (!mask[i]) return;
    const score = moveScore(m.id, original, me.terastallized, me.stats, defender);
    if (score > bestScore) {
      best = i;
      bestScore = score;
      bestEff = defender.length ? effectiveness(moveData(m.id).type, defender) : 1;
    }
    if (mask[TERA_OFFSET + i] && active.canTerastallize) {
      const teraScore = moveScore(m.id, original, active.canTerastallize, me.stats, defender);
      if (teraScore > bestTeraScore) {
        bestTera = TERA_OFFSET + i;
        bestTeraScore = teraScore;
      }
    }
  });
  if (bestSwitch >= 0) {
    const threat = threatAgainst(view, requestTypes(me));
    const threatened = Math.max(threat.byType, threat.byMoves) >= 2;
    const weak = best < 0 || bestEff < 1 || bestScore < 60;
    if (threatened && weak && bestSwitchValue >= 1.5 * matchupOf(view, me)) return bestSwitch;
  }
  if (bestTera >= 0 && bestTeraScore >= 1.5 * Math.max(bestScore, 1)) return bestTera;
  if (best >= 0) return best;
  return firstLegal(mask);
}

export function firstLegal(mask: Uint8Array): number {
  for (let a = 0; a < mask.length; a++) if (mask[a]) return a;
  return -1;
}
