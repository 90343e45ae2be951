/**
 * The community's yardstick bots, after poke-env's `MaxBasePowerPlayer` and
 * `SimpleHeuristicsPlayer` (poke_env/player/baselines.py), written for our view of a
 * battle (the request and the client battle; no hidden information). Where poke-env picks
 * at random (a forced switch, nothing else to do) these take a seeded Rng, so a battle is
 * still a function of its seed. Differences from poke-env are listed in docs/showdown.md.
 */
import type { Pokemon as ClientPokemon } from '@pkmn/client';
import type { Rng } from '@poke/core/light';
import { accuracyOf, averageHits, effectiveness, moveData, speciesData } from './dex.js';
import { MOVE_ACTIONS, SWITCH_OFFSET, ACTION_COUNT, isFainted } from './actions.js';
import type { SimRequest } from './actions.js';
import type { PlayerView } from './encoder/view.js';
import { foeTypes, hpFraction, requestTypes, speciesOfDetails } from './expert.js';

type RequestPokemon = SimRequest['side']['pokemon'][number];
type Boosts = Partial<Record<'atk' | 'def' | 'spa' | 'spd' | 'spe' | 'accuracy' | 'evasion', number>>;
type BaseStats = Record<'hp' | 'atk' | 'def' | 'spa' | 'spd' | 'spe', number>;

/** poke-env's constants, with its names. */
export const HEURISTIC = {
  // poke-env spells Stealth Rock's id "stealhrock", so it never lays it: kept, to play like it.
  ENTRY_HAZARDS: { spikes: 'spikes', stickyweb: 'stickyweb', toxicspikes: 'toxicspikes' } as Record<string, string>,
  ANTI_HAZARDS_MOVES: new Set(['rapidspin', 'defog']),
  SPEED_TIER_COEFICIENT: 0.1,
  HP_FRACTION_COEFICIENT: 0.4,
  SWITCH_OUT_MATCHUP_THRESHOLD: -2,
} as const;

/** The random player, and poke-env's `choose_random_move`: uniform over the legal actions, tera variants included. */
export function randomAction(rng: Rng, mask: Uint8Array): number {
  let legal = 0;
  for (let a = 0; a < mask.length; a++) legal += mask[a]!;
  if (legal === 0) return -1;
  let k = rng.nextBelow(legal);
  for (let a = 0; a < mask.length; a++) if (mask[a] && k-- === 0) return a;
  return -1;
}

/** The legal plain moves (no tera variant) of the request, as action indices in request order. */
function availableMoves(mask: Uint8Array): number[] {
  const moves: number[] = [];
  for (let a = 0; a < MOVE_ACTIONS; a++) if (mask[a]) moves.push(a);
  return moves;
}

function availableSwitches(mask: Uint8Array): number[] {
  const switches: number[] = [];
  for (let a = SWITCH_OFFSET; a < ACTION_COUNT; a++) if (mask[a]) switches.push(a);
  return switches;
}

/** The first index of the largest key (Python's `max` keeps the first of equals). */
function argmax(items: readonly number[], key: (item: number) => number): number {
  let best = -1;
  let bestKey = -Infinity;
  for (const item of items) {
    const k = key(item);
    if (k > bestKey) {
      best = item;
      bestKey = k;
    }
  }
  return best;
}

function moveIdOf(request: SimRequest, action: number): string {
  return request.active![0]!.moves[action % MOVE_ACTIONS]!.id;
}

/** MaxBasePowerPlayer: the available move with the highest base power, else a random legal action. */
export function maxPowerAction(view: PlayerView, mask: Uint8Array, rng: Rng): number {
  const request = view.request!;
  const moves = request.forceSwitch?.[0] ? [] : availableMoves(mask);
  if (moves.length) return argmax(moves, (a) => moveData(moveIdOf(request, a)).basePower);
  return randomAction(rng, mask);
}

/** One side of a matchup: what `_estimate_matchup` reads of a Pokémon. */
interface Mon {
  types: readonly string[];
  baseStats: BaseStats;
  hp: number;
}

function ownMon(p: RequestPokemon): Mon {
  return { types: requestTypes(p), baseStats: speciesData(speciesOfDetails(p.details)).baseStats, hp: hpFraction(p.condition) };
}

function foeMon(p: ClientPokemon): Mon {
  return { types: foeTypes(p), baseStats: p.species.baseStats, hp: p.maxhp > 0 ? p.hp / p.maxhp : 0 };
}

/** The best multiplier of the attacking types against the defending ones; 1 when no type is known. */
function bestMultiplier(attacking: readonly string[], defending: readonly string[]): number {
  return attacking.length ? Math.max(...attacking.map((t) => effectiveness(t, defending))) : 1;
}

/** `_estimate_matchup(mon, opponent)`: type advantage both ways, speed tier and HP. */
export function estimateMatchup(mon: Mon, opponent: Mon): number {
  const { SPEED_TIER_COEFICIENT: speed, HP_FRACTION_COEFICIENT: hp } = HEURISTIC;
  let score = bestMultiplier(mon.types, opponent.types) - bestMultiplier(opponent.types, mon.types);
  if (mon.baseStats.spe > opponent.baseStats.spe) score += speed;
  else if (opponent.baseStats.spe > mon.baseStats.spe) score -= speed;
  return score + mon.hp * hp - opponent.hp * hp;
}

/** `_stat_estimation`: base stat with boosts. Like poke-env, a +1 boost counts as 2× (its `> 1` test). */
export function statEstimation(baseStats: BaseStats, boosts: Boosts, stat: 'atk' | 'def' | 'spa' | 'spd'): number {
  const b = boosts[stat] ?? 0;
  const multiplier = b > 1 ? (2 + b) / 2 : 2 / (2 - b);
  return (2 * baseStats[stat] + 31 + 5) * multiplier;
}

function shouldSwitchOut(me: RequestPokemon, boosts: Boosts, opponent: Mon, switches: RequestPokemon[]): boolean {
  if (!switches.some((p) => estimateMatchup(ownMon(p), opponent) > 0)) return false;
  const b = (s: keyof Boosts) => boosts[s] ?? 0;
  if (b('def') <= -3 || b('spd') <= -3) return true;
  if (b('atk') <= -3 && me.stats.atk >= me.stats.spa) return true;
  if (b('spa') <= -3 && me.stats.atk <= me.stats.spa) return true;
  return estimateMatchup(ownMon(me), opponent) < HEURISTIC.SWITCH_OUT_MATCHUP_THRESHOLD;
}

/** A hazard to lay or clear, poke-env's first rule; -1 when none applies. */
function hazardMove(view: PlayerView, request: SimRequest, moves: number[]): number {
  const team = request.side.pokemon;
  const remaining = team.filter((p) => !isFainted(p.condition)).length;
  const foeRemaining = 6 - view.foe.team.filter((p) => p.fainted).length;
  const ownHasConditions = Object.keys(view.own.sideConditions).length > 0;
  for (const a of moves) {
    const id = moveIdOf(request, a);
    const hazard = HEURISTIC.ENTRY_HAZARDS[id];
    if (foeRemaining >= 3 && hazard && !view.foe.sideConditions[hazard]) return a;
    if (ownHasConditions && HEURISTIC.ANTI_HAZARDS_MOVES.has(id) && remaining >= 2) return a;
  }
  return -1;
}

/** A self-targeting move raising stats by 2 or more stages in all, none of them already at +6; -1 when none. */
function setupMove(request: SimRequest, moves: number[], boosts: Boosts): number {
  for (const a of moves) {
    const move = moveData(moveIdOf(request, a));
    const raised = Object.entries(move.boosts ?? {}) as Array<[keyof Boosts, number]>;
    if (!raised.length || move.target !== 'self') continue;
    if (raised.reduce((s, [, v]) => s + v, 0) < 2) continue;
    const positive = raised.filter(([, v]) => v > 0).map(([s]) => boosts[s] ?? 0);
    if (positive.length && Math.min(...positive) < 6) return a;
  }
  return -1;
}

/** SimpleHeuristicsPlayer's action for the view's current request. */
export function heuristicAction(view: PlayerView, mask: Uint8Array, rng: Rng): number {
  const request = view.request!;
  const team = request.side.pokemon;
  const foe = view.foe.active[0];
  const meClient = view.own.active[0];
  if (!foe || !meClient) return randomAction(rng, mask);
  const opponent = foeMon(foe);
  const moves = request.forceSwitch?.[0] ? [] : availableMoves(mask);
  const switchActions = availableSwitches(mask);
  const switches = switchActions.map((a) => team[a - SWITCH_OFFSET + 1]!);
  const me = team[0]!;
  const boosts = meClient.boosts as Boosts;

  if (moves.length && (!switches.length || !shouldSwitchOut(me, boosts, opponent, switches))) {
    const hazard = hazardMove(view, request, moves);
    if (hazard >= 0) return hazard;
    const mon = ownMon(me);
    if (mon.hp === 1 && estimateMatchup(mon, opponent) > 0) {
      const setup = setupMove(request, moves, boosts);
      if (setup >= 0) return setup;
    }
    const base = mon.baseStats;
    const foeBoosts = foe.boosts as Boosts;
    const physical = statEstimation(base, boosts, 'atk') / statEstimation(opponent.baseStats, foeBoosts, 'def');
    const special = statEstimation(base, boosts, 'spa') / statEstimation(opponent.baseStats, foeBoosts, 'spd');
    return argmax(moves, (a) => {
      const move = moveData(moveIdOf(request, a));
      return (
        move.basePower *
        (mon.types.includes(move.type) ? 1.5 : 1) *
        (move.category === 'Physical' ? physical : special) *
        accuracyOf(move) *
        averageHits(move) *
        effectiveness(move.type, opponent.types)
      );
    });
  }
  if (switchActions.length) {
    return argmax(switchActions, (a) => estimateMatchup(ownMon(team[a - SWITCH_OFFSET + 1]!), opponent));
  }
  return randomAction(rng, mask);
}
