import {
  BENCH_BLOCK, BOOSTS, FEATURE_SIZE, FOE_BENCH_BLOCK, MOVE_BLOCK, SIDE_CONDITIONS, STATS, STATUSES, TERRAINS, TYPE_INDEX, WEATHERS, offsetOf,
} from './layout.js';
import type { PlayerView } from './view.js';
import type { Side } from '@pkmn/client';
import { accuracyOf, effectivePower, effectiveness, moveData, speciesData } from '../dex.js';
import { isFainted } from '../actions.js';
import {
  bestScoreOf, foeTypes, hpFraction, moveScore, originalTypes, requestTypes, stab, statusOf, threatAgainst,
} from '../expert.js';

const O = {
  selfTypes: offsetOf('self.types'),
  selfHp: offsetOf('self.hp'),
  selfStatus: offsetOf('self.status'),
  selfBoosts: offsetOf('self.boosts'),
  selfStats: offsetOf('self.stats'),
  selfTera: offsetOf('self.tera'),
  selfThreat: offsetOf('self.threat'),
  selfMoves: offsetOf('self.moves'),
  bench: offsetOf('bench'),
  foePresent: offsetOf('foe.present'),
  foeTypes: offsetOf('foe.types'),
  foeHp: offsetOf('foe.hp'),
  foeStatus: offsetOf('foe.status'),
  foeBoosts: offsetOf('foe.boosts'),
  foeTera: offsetOf('foe.tera'),
  foeBaseStats: offsetOf('foe.baseStats'),
  foeMoveTypes: offsetOf('foe.revealedMoveTypes'),
  foeSide: offsetOf('foe.side'),
  foeBench: offsetOf('foe.bench'),
  weather: offsetOf('field.weather'),
  terrain: offsetOf('field.terrain'),
  trickRoom: offsetOf('field.trickRoom'),
  selfSide: offsetOf('self.sideConditions'),
  foeSideConditions: offsetOf('foe.sideConditions'),
  meta: offsetOf('meta'),
};

function setTypes(out: Float32Array, at: number, types: readonly string[]): void {
  for (const t of types) {
    const i = TYPE_INDEX.get(t);
    if (i !== undefined) out[at + i] = 1;
  }
}

function setStatus(out: Float32Array, at: number, status: string | undefined): void {
  const i = status ? STATUSES.indexOf(status as (typeof STATUSES)[number]) : -1;
  if (i >= 0) out[at + i] = 1;
}

/** log2 of a multiplier, halved; immunity is −1.5. */
function logMultiplier(m: number): number {
  return m === 0 ? -1.5 : Math.log2(m) / 2;
}

/** The HP percentage every player is shown (exact HP is only for its owner): ceil, and never 100 unless full. */
export function shownPercent(hp: number, maxhp: number): number {
  if (!(maxhp > 0) || hp <= 0) return 0;
  if (maxhp === 100) return hp;
  const p = Math.ceil((100 * hp) / maxhp);
  return p === 100 && hp < maxhp ? 99 : p;
}

function sideConditions(out: Float32Array, at: number, side: Side): void {
  SIDE_CONDITIONS.forEach((id, i) => {
    const c = side.sideConditions[id];
    if (!c) return;
    out[at + i] = id === 'spikes' ? c.level / 3 : id === 'toxicspikes' ? c.level / 2 : 1;
  });
}

/**
 * Encode the view's current decision into a FEATURE_SIZE vector. Reads the request
 * for the own team and the client battle for the foe and the field, nothing else.
 */
export function encode(view: PlayerView, out = new Float32Array(FEATURE_SIZE)): Float32Array {
  out.fill(0);
  const request = view.request!;
  const team = request.side.pokemon;
  const me = team[0]!;
  const foe = view.foe.active[0] && !view.foe.active[0].fainted ? view.foe.active[0] : null;
  const defender = foeTypes(foe);

  // Own active.
  setTypes(out, O.selfTypes, requestTypes(me));
  out[O.selfHp] = hpFraction(me.condition);
  setStatus(out, O.selfStatus, statusOf(me.condition));
  const ownActive = view.own.active[0];
  if (ownActive && !request.forceSwitch?.[0]) BOOSTS.forEach((b, i) => (out[O.selfBoosts + i] = (ownActive.boosts[b] ?? 0) / 6));
  STATS.forEach((s, i) => (out[O.selfStats + i] = me.stats[s] / 500));
  const active = request.forceSwitch?.[0] ? undefined : request.active?.[0];
  if (active?.canTerastallize) out[O.selfTera] = 1;
  if (me.terastallized) out[O.selfTera + 1] = 1;
  setTypes(out, O.selfTera + 2, [me.terastallized ?? me.teraType ?? active?.canTerastallize ?? ''].filter(Boolean));
  const threat = threatAgainst(view, requestTypes(me));
  out[O.selfThreat] = foe ? logMultiplier(threat.byType) : 0;
  out[O.selfThreat + 1] = foe && threat.byMoves > 0 ? logMultiplier(threat.byMoves) : 0;

  // Own moves: the request's active moves when choosing a move, else the active's moveset.
  const original = originalTypes(me);
  const moves = active ? active.moves : me.moves.map((id) => ({ id, move: id, disabled: true as boolean | string, pp: undefined, maxpp: undefined }));
  moves.slice(0, 4).forEach((m, i) => {
    const at = O.selfMoves + i * MOVE_BLOCK.size;
    const move = moveData(m.id);
    out[at + MOVE_BLOCK.present] = 1;
    const t = TYPE_INDEX.get(move.type);
    if (t !== undefined) out[at + MOVE_BLOCK.type + t] = 1;
    out[at + MOVE_BLOCK.power] = effectivePower(move) / 150;
    out[at + (move.category === 'Physical' ? MOVE_BLOCK.physical : move.category === 'Special' ? MOVE_BLOCK.special : MOVE_BLOCK.status)] = 1;
    out[at + MOVE_BLOCK.accuracy] = accuracyOf(move);
    out[at + MOVE_BLOCK.pp] = m.maxpp ? (m.pp ?? 0) / m.maxpp : 0;
    out[at + MOVE_BLOCK.legal] = m.disabled ? 0 : 1;
    out[at + MOVE_BLOCK.stab] = stab(move.type, original, me.terastallized) > 1 ? 1 : 0;
    out[at + MOVE_BLOCK.effectiveness] = foe && effectivePower(move) > 0 ? logMultiplier(effectiveness(move.type, defender)) : 0;
    out[at + MOVE_BLOCK.expected] = moveScore(m.id, original, me.terastallized, me.stats, defender) / 300;
    out[at + MOVE_BLOCK.expectedTera] = active?.canTerastallize ? moveScore(m.id, original, active.canTerastallize, me.stats, defender) / 300 : 0;
    out[at + MOVE_BLOCK.priority] = (move.priority || 0) / 5;
  });

  // Own bench, request order.
  for (let j = 1; j < Math.min(team.length, 6); j++) {
    const p = team[j]!;
    const at = O.bench + (j - 1) * BENCH_BLOCK.size;
    out[at + BENCH_BLOCK.present] = 1;
    const fainted = isFainted(p.condition);
    out[at + BENCH_BLOCK.fainted] = fainted ? 1 : 0;
    out[at + BENCH_BLOCK.hp] = hpFraction(p.condition);
    out[at + BENCH_BLOCK.statused] = statusOf(p.condition) ? 1 : 0;
    setTypes(out, at + BENCH_BLOCK.type, requestTypes(p));
    if (!fainted) {
      out[at + BENCH_BLOCK.bestExpected] = bestScoreOf(view, p) / 300;
      const th = threatAgainst(view, requestTypes(p));
      out[at + BENCH_BLOCK.threat] = foe ? logMultiplier(Math.max(th.byType, th.byMoves)) : 0;
    }
  }

  // Foe active: only what was revealed on the player's channel.
  if (foe) {
    out[O.foePresent] = 1;
    setTypes(out, O.foeTypes, defender);
    out[O.foeHp] = shownPercent(foe.hp, foe.maxhp) / 100;
    setStatus(out, O.foeStatus, foe.status);
    BOOSTS.forEach((b, i) => (out[O.foeBoosts + i] = (foe.boosts[b] ?? 0) / 6));
    out[O.foeTera] = foe.terastallized ? 1 : 0;
    const base = speciesData(foe.speciesForme).baseStats;
    (['hp', 'atk', 'def', 'spa', 'spd', 'spe'] as const).forEach((s, i) => (out[O.foeBaseStats + i] = (base[s] ?? 0) / 255));
    for (const slot of foe.moveSlots) {
      const t = TYPE_INDEX.get(moveData(slot.id).type);
      if (t !== undefined) out[O.foeMoveTypes + t] = 1;
    }
  }
  const foeSide = view.foe;
  const revealed = foeSide.team;
  const total = foeSide.totalPokemon || 6;
  const living = revealed.filter((p) => !p.fainted && p.hp > 0);
  out[O.foeSide] = revealed.length / 6;
  out[O.foeSide + 1] = revealed.filter((p) => p.fainted || p.hp <= 0).length / 6;
  out[O.foeSide + 2] = Math.max(0, total - revealed.length) / 6;
  out[O.foeSide + 3] = living.length ? living.reduce((s, p) => s + shownPercent(p.hp, p.maxhp), 0) / (100 * living.length) : 0;
  out[O.foeSide + 4] = revealed.some((p) => p.terastallized) ? 1 : 0;
  let k = 0;
  for (const p of revealed) {
    if (p === foeSide.active[0] || k >= 5) continue;
    const at = O.foeBench + k++ * FOE_BENCH_BLOCK.size;
    out[at + FOE_BENCH_BLOCK.present] = 1;
    out[at + FOE_BENCH_BLOCK.fainted] = p.fainted || p.hp <= 0 ? 1 : 0;
    out[at + FOE_BENCH_BLOCK.hp] = shownPercent(p.hp, p.maxhp) / 100;
    setTypes(out, at + FOE_BENCH_BLOCK.type, foeTypes(p));
  }

  // Field and sides.
  const field = view.battle.field;
  const weather = field.weatherState?.id;
  const w = WEATHERS.findIndex((id) => weather === id || (id === 'snowscape' && weather === 'hail') || (id === 'sunnyday' && weather === 'desolateland') || (id === 'raindance' && weather === 'primordialsea'));
  if (w >= 0) out[O.weather + w] = 1;
  const terrain = TERRAINS.indexOf(field.terrainState?.id as (typeof TERRAINS)[number]);
  if (terrain >= 0) out[O.terrain + terrain] = 1;
  out[O.trickRoom] = field.pseudoWeather['trickroom'] ? 1 : 0;
  sideConditions(out, O.selfSide, view.own);
  sideConditions(out, O.foeSideConditions, foeSide);

  out[O.meta] = request.forceSwitch?.[0] ? 1 : 0;
  out[O.meta + 1] = Math.min(view.battle.turn, 300) / 100;
  out[O.meta + 2] = team.filter((p) => !isFainted(p.condition)).length / 6;
  return out;
}
