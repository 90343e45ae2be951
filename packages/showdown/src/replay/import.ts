/**
 * Replay import: Showdown replay files (the replay JSON with a `log` field, or raw
 * protocol text) → (features, mask, action taken) for both players.
 *
 * Two kinds of log:
 * - A player's log that carries its `|request|` lines (what a bot or client received;
 *   `poke data generate --logs` writes these as `*.p1.log`/`*.p2.log`). Decisions and
 *   masks come from the requests exactly, so importing a generated battle's player log
 *   gives back exactly the samples the generator recorded.
 * - A replay (spectator or omniscient protocol, no requests). Each player's request is
 *   reconstructed from what the log reveals of its own team: Pokémon as they appear,
 *   moves as they are used (revealed over the whole battle; a player knows its own set),
 *   HP and status as shown, stats estimated from base stats at the shown level.
 *   Unrevealed moves and Pokémon are missing, so the masks are approximations.
 *
 * The action taken is read from the lines that follow a decision: the player's next
 * `|move|` (with `|-terastallize|` before it: the tera variant) or `|switch|`. A decision
 * whose action the log cannot show (the Pokémon flinched, slept, fainted first) is
 * dropped. A log that fails to parse, is truncated (no `|win|`/`|tie|`) or is not a gen 9
 * singles battle is skipped whole; the count and the first reason are reported. So is a
 * log with a line the battle cannot follow (a Pokémon that is not there, a request that is
 * not JSON or names another side) or values that make a feature non-finite (an HP, level
 * or turn out of range): the reason names the line. Reasons are one printable line.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { toID } from '@pkmn/data';
import { ACTION_COUNT, SWITCH_OFFSET, TERA_OFFSET, maskFromRequest, needsDecision } from '../actions.js';
import type { SimRequest } from '../actions.js';
import { PlayerView, channelLines } from '../encoder/view.js';
import type { SideID } from '../encoder/view.js';
import { encode } from '../encoder/encode.js';
import { FEATURE_SIZE, describeLayout } from '../encoder/layout.js';
import { moveData, speciesData } from '../dex.js';
import type { Decision } from '../battle.js';

export interface ImportResult {
  decisions: Decision[];
  battles: number;
  skipped: number;
  /** The first skipped file's reason (`file: reason`). */
  firstSkipReason?: string;
  /** Decisions whose action the log did not show. */
  unresolved: number;
}

/** The protocol text inside a replay file: the JSON's `log`, or the text itself. */
export function replayText(content: string): string {
  const trimmed = content.trimStart();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`not valid JSON: ${printable(messageOf(err), 120)}`);
    }
    const log = (json as { log?: unknown }).log;
    if (typeof log !== 'string') throw new Error('replay JSON has no "log" string');
    return log;
  }
  return content;
}

/** A log the importer refuses; the message says why (and where). */
class LogError extends Error {}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Text from a log or a file name, made safe for a one-line message: no control or bidi characters, at most `max` characters. */
function printable(text: string, max: number): string {
  const flat = text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The error for line `n` (1-based) that the battle could not follow. */
function lineError(n: number, line: string, err: unknown): LogError {
  if (err instanceof LogError) return err;
  const kind = /^\|([^|]*)/.exec(line)?.[1];
  return new LogError(`line ${n}: cannot follow ${kind === undefined ? 'the line' : `the |${printable(kind, 24)}| line`} (${printable(messageOf(err), 120)})`);
}

/** The features of a decision at line `n`; a value out of range that made one non-finite makes the log malformed. */
function features(view: PlayerView, n: number): Float32Array {
  const out = encode(view);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const block = describeLayout().find((b) => bad >= b.offset && bad < b.offset + b.size)?.name ?? String(bad);
    throw new LogError(`line ${n}: a value in the log is out of range (feature ${block} would be ${out[bad]})`);
  }
  return out;
}

/** The JSON request of a `|request|` line (line `n`), for `side` when given. */
function parseRequest(line: string, n: number, side?: SideID): SimRequest {
  let request: unknown;
  try {
    request = JSON.parse(line.slice(9));
  } catch (err) {
    throw new LogError(`line ${n}: |request| is not valid JSON (${printable(messageOf(err), 80)})`);
  }
  const id = (request as { side?: { id?: unknown } } | null)?.side?.id;
  if (id !== 'p1' && id !== 'p2') throw new LogError(`line ${n}: |request| has no side id p1 or p2`);
  if (side && id !== side) throw new LogError(`line ${n}: |request| is for ${id}, the earlier ones for ${side}`);
  if (!Array.isArray((request as SimRequest).side.pokemon)) throw new LogError(`line ${n}: |request| has no side.pokemon list`);
  return request as SimRequest;
}

interface Pending {
  decision: Decision;
  forceSwitch: boolean;
  request: SimRequest;
  tera: boolean;
}

const SIDES = ['p1', 'p2'] as const;

function identSide(ident: string | undefined): SideID | undefined {
  const s = ident?.slice(0, 2);
  return s === 'p1' || s === 'p2' ? s : undefined;
}

/** `p1a: Name` → `p1: Name`. */
function teamIdent(ident: string): string {
  const colon = ident.indexOf(':');
  return `${ident.slice(0, 2)}:${ident.slice(colon + 1)}`;
}

/** The action a protocol line shows for a pending decision, or undefined when it shows none. */
function actionOf(parts: string[], pending: Pending): number | 'unknown' | undefined {
  const [, kind, ident] = parts;
  if (identSide(ident) !== pending.decision.side) return undefined;
  if (kind === 'move' && !pending.forceSwitch) {
    const from = parts.slice(4).find((p) => p.startsWith('[from]'));
    if (from && !/lockedmove/i.test(from)) return undefined;
    const id = toID(parts[3]);
    const moves = pending.request.active?.[0]?.moves ?? [];
    const i = moves.findIndex((m) => m.id === id || toID(m.move) === id);
    if (i < 0 || i >= 4) return 'unknown';
    return pending.tera ? TERA_OFFSET + i : i;
  }
  if (kind === 'switch') {
    const wanted = teamIdent(ident!);
    const j = pending.request.side.pokemon.findIndex((p) => p.ident === wanted);
    return j >= 1 && j <= 5 ? SWITCH_OFFSET + j - 1 : 'unknown';
  }
  if (kind === 'cant' || kind === 'faint') return 'unknown';
  return undefined;
}

function resolve(pending: Pending, action: number | 'unknown', out: Decision[]): boolean {
  if (action === 'unknown' || !pending.decision.mask[action]) return false;
  pending.decision.action = action;
  out.push(pending.decision);
  return true;
}

function checkLog(lines: string[]): void {
  if (!lines.some((l) => l.startsWith('|start'))) throw new Error('no |start| line (not a battle log)');
  const gen = lines.find((l) => l.startsWith('|gen|'));
  if (gen && gen !== '|gen|9') throw new Error(`unsupported generation ${printable(gen.slice(5), 40)} (only gen 9 singles)`);
  const gametype = lines.find((l) => l.startsWith('|gametype|'));
  if (gametype && gametype !== '|gametype|singles') throw new Error(`unsupported game type ${printable(gametype.slice(10), 40)}`);
  if (!lines.some((l) => l.startsWith('|win|') || l === '|tie' || l.startsWith('|tie|'))) throw new Error('truncated: no |win| or |tie| line');
}

/** Decisions of one battle's protocol text (throws when the log is malformed). */
export function importLog(text: string): { decisions: Decision[]; unresolved: number } {
  const lines = text.split(/\r?\n/);
  checkLog(lines);
  const requestLines = lines.filter((l) => l.startsWith('|request|'));
  return requestLines.length ? importPlayerLog(lines) : importReplayLog(lines);
}

function importPlayerLog(lines: string[]): { decisions: Decision[]; unresolved: number } {
  const at = lines.findIndex((l) => l.startsWith('|request|'));
  const side = parseRequest(lines[at]!, at + 1).side.id;
  const view = new PlayerView(side);
  const decisions: Decision[] = [];
  let pending: Pending | undefined;
  let unresolved = 0;
  let rqid = 0;
  for (const [i, line] of lines.entries()) {
    try {
      if (line.startsWith('|request|')) {
        rqid++;
        if (pending) unresolved++;
        pending = undefined;
        const request = parseRequest(line, i + 1, side);
        view.request = request;
        if (!needsDecision(request)) continue;
        const mask = maskFromRequest(request);
        if (!mask.some(Boolean)) continue;
        pending = {
          decision: { side, rqid, features: features(view, i + 1), mask, action: -1 },
          forceSwitch: Boolean(request.forceSwitch?.[0]),
          request,
          tera: false,
        };
        continue;
      }
      if (pending) {
        const parts = line.split('|');
        if (parts[1] === '-terastallize' && identSide(parts[2]) === side) pending.tera = true;
        else if (parts[1] === 'turn') {
          unresolved++;
          pending = undefined;
        } else {
          const action = actionOf(parts, pending);
          if (action !== undefined) {
            if (!resolve(pending, action, decisions)) unresolved++;
            pending = undefined;
          }
        }
      }
      view.addLines([line]);
    } catch (err) {
      throw lineError(i + 1, line, err);
    }
  }
  if (pending) unresolved++;
  return { decisions, unresolved };
}

interface Member {
  ident: string;
  details: string;
  moves: string[];
  teraType?: string;
}

function estimatedStats(details: string): SimRequest['side']['pokemon'][number]['stats'] {
  const species = speciesData(details.split(',')[0]!);
  const level = Number(/, L(\d+)/.exec(details)?.[1] ?? 100);
  const stat = (base: number) => Math.floor(Math.floor(((2 * base + 31 + 21) * level) / 100) + 5);
  const b = species.baseStats;
  return { atk: stat(b.atk), def: stat(b.def), spa: stat(b.spa), spd: stat(b.spd), spe: stat(b.spe) };
}

/** Pass 1: each side's team as the whole log reveals it. */
function revealedTeams(lines: string[]): Record<SideID, Map<string, Member>> {
  const teams: Record<SideID, Map<string, Member>> = { p1: new Map(), p2: new Map() };
  for (const [i, line] of lines.entries()) {
    const parts = line.split('|');
    const side = identSide(parts[2]);
    if (!side) continue;
    const kind = parts[1];
    if (kind === 'switch' || kind === 'drag' || kind === 'replace') {
      const ident = teamIdent(parts[2]!);
      if (parts[3] === undefined) throw lineError(i + 1, line, new Error('no details'));
      const details = parts[3].replace(/, tera:[A-Za-z]+/, '');
      if (!teams[side].has(ident)) teams[side].set(ident, { ident, details, moves: [] });
    } else if (kind === 'move') {
      const member = teams[side].get(teamIdent(parts[2]!));
      const from = parts.slice(4).find((p) => p.startsWith('[from]'));
      const id = toID(parts[3]);
      if (member && (!from || /lockedmove/i.test(from)) && id !== 'struggle' && !member.moves.includes(id) && member.moves.length < 4) member.moves.push(id);
    } else if (kind === '-terastallize') {
      const member = teams[side].get(teamIdent(parts[2]!));
      if (member) member.teraType = parts[3];
    }
  }
  return teams;
}

function reconstructRequest(view: PlayerView, team: Map<string, Member>, forceSwitch: boolean, teraUsed: boolean, rqid: number): SimRequest | undefined {
  const active = view.own.active[0];
  const members = [...team.values()];
  const known = view.own.team;
  const conditionOf = (ident: string): string => {
    const p = known.find((k) => teamIdent(k.originalIdent) === ident || `${k.side.id}: ${k.name}` === ident);
    if (!p) return '100/100';
    if (p.fainted || p.hp <= 0) return '0 fnt';
    return `${p.hp}/${p.maxhp}${p.status ? ` ${p.status}` : ''}`;
  };
  const activeIdent = active ? `${view.side}: ${active.name}` : undefined;
  const ordered = [...members.filter((m) => m.ident === activeIdent), ...members.filter((m) => m.ident !== activeIdent)];
  if (!ordered.length) return undefined;
  const pokemon = ordered.map((m) => ({
    ident: m.ident,
    details: m.details,
    condition: conditionOf(m.ident),
    active: m.ident === activeIdent,
    stats: estimatedStats(m.details),
    moves: m.moves,
    ...(m.teraType ? { teraType: m.teraType } : {}),
    ...(m.ident === activeIdent && active?.terastallized ? { terastallized: active.terastallized } : {}),
  }));
  const request: SimRequest = { rqid, side: { name: view.side, id: view.side, pokemon } };
  if (forceSwitch) request.forceSwitch = [true];
  else {
    const me = ordered[0]!;
    if (me.ident !== activeIdent || !active) return undefined;
    const moves = me.moves.length ? me.moves : ['struggle'];
    request.active = [{
      moves: moves.map((id) => {
        const data = moveData(id);
        const maxpp = Math.floor((data.pp * 8) / 5) || 1;
        const slot = active.moveSlots.find((s) => s.id === id);
        const used = typeof slot?.ppUsed === 'number' ? slot.ppUsed : 0;
        return { move: data.name, id, pp: Math.max(0, maxpp - used), maxpp, disabled: false };
      }),
      ...(!teraUsed && me.teraType ? { canTerastallize: me.teraType } : {}),
    }];
  }
  return request;
}

function importReplayLog(lines: string[]): { decisions: Decision[]; unresolved: number } {
  const teams = revealedTeams(lines);
  const views = { p1: new PlayerView('p1'), p2: new PlayerView('p2') };
  const pending: Partial<Record<SideID, Pending>> = {};
  const teraUsed = { p1: false, p2: false };
  const decisions: Decision[] = [];
  let unresolved = 0;
  let started = false;
  let rqid = 0;
  /** The line being read (1-based), for error messages. */
  let n = 0;
  const open = (side: SideID, forceSwitch: boolean): void => {
    const view = views[side];
    const request = reconstructRequest(view, teams[side], forceSwitch, teraUsed[side], ++rqid);
    if (!request) return;
    view.request = request;
    const mask = maskFromRequest(request);
    if (!mask.some(Boolean)) return;
    pending[side] = { decision: { side, rqid, features: features(view, n), mask, action: -1 }, forceSwitch, request, tera: false };
  };
  const step = (raw: string): void => {
    const parts = raw.split('|');
    const kind = parts[1];
    const side = identSide(parts[2]);
    if (kind === '-terastallize' && side) {
      teraUsed[side] = true;
      if (pending[side]) pending[side]!.tera = true;
    }
    if (side && started && (kind === 'move' || kind === 'switch' || kind === 'cant' || kind === 'faint')) {
      if (kind === 'switch' && !pending[side]) open(side, true);
      const p = pending[side];
      if (p) {
        const action = actionOf(parts, p);
        if (action !== undefined) {
          if (!resolve(p, action, decisions)) unresolved++;
          delete pending[side];
        }
      }
    }
    for (const s of SIDES) views[s].addLines(channelLines([raw], s));
    if (kind === 'turn') {
      started = true;
      for (const s of SIDES) {
        if (pending[s]) unresolved++;
        delete pending[s];
        const active = views[s].own.active[0];
        if (active && !active.fainted) open(s, false);
      }
    }
  };
  for (const raw of lines) {
    n++;
    try {
      step(raw);
    } catch (err) {
      throw lineError(n, raw, err);
    }
  }
  return { decisions, unresolved: unresolved + Object.keys(pending).length };
}

/** Import replay files; bad files are skipped and counted, never thrown. */
export async function importReplayFiles(files: readonly string[], onFile?: (done: number, total: number) => void): Promise<ImportResult> {
  const result: ImportResult = { decisions: [], battles: 0, skipped: 0, unresolved: 0 };
  let done = 0;
  for (const file of files) {
    try {
      const text = replayText(await readFile(file, 'utf8'));
      const { decisions, unresolved } = importLog(text);
      // Not push(...decisions): a huge log would overflow the call stack.
      for (const d of decisions) result.decisions.push(d);
      result.unresolved += unresolved;
      result.battles++;
    } catch (err) {
      result.skipped++;
      result.firstSkipReason ??= `${printable(basename(file), 255)}: ${printable(messageOf(err), 300)}`;
    }
    onFile?.(++done, files.length);
  }
  return result;
}

export { ACTION_COUNT, FEATURE_SIZE };
