/**
 * The Showdown server's websocket protocol, client side (PROTOCOL.md of pokemon-showdown):
 * a message is an optional `>ROOMID` line then protocol lines `|TYPE|ARG|ARG…`. Nothing here
 * throws on what a server (or anything pretending to be one) sends: what cannot be read is
 * reported as malformed and skipped by the caller.
 */
import type { SimRequest } from '../actions.js';

export interface Frame {
  /** The room the lines belong to; '' for the global room. */
  room: string;
  lines: string[];
}

/** Longest room id and line we take; a server never sends more, a broken stream might. */
const MAX_ROOM = 200;
const MAX_LINE = 1 << 20;

/** A websocket message as a room and its lines. Blank lines are dropped. */
export function parseFrame(data: string): Frame {
  let lines = data.split('\n');
  let room = '';
  if (lines[0]?.startsWith('>')) {
    room = lines[0].slice(1).trim().slice(0, MAX_ROOM);
    lines = lines.slice(1);
  }
  return { room, lines: lines.filter((l) => l.length > 0) };
}

/** A protocol line's type and arguments: `|win|Name` → ['win', 'Name']; a line without `|` is chat text (type ''). */
export function splitLine(line: string): { type: string; args: string[] } {
  if (!line.startsWith('|')) return { type: '', args: [line] };
  const parts = line.slice(1).split('|');
  return { type: parts[0] ?? '', args: parts.slice(1) };
}

/** Whether a line is one we can hand on: bounded, no control characters but tab. */
export function isWellFormed(line: string): boolean {
  // eslint-disable-next-line no-control-regex
  return line.length <= MAX_LINE && !/[\u0000-\u0008\u000b-\u001f]/.test(line);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A `|request|` JSON, checked enough that the encoder and the mask can read it: a side with
 * an id and a team of Pokémon with details, condition and stats; an active with moves when present.
 * Returns undefined for an empty request (the server sends `|request|` with nothing to clear one).
 */
export function parseRequest(json: string): SimRequest | undefined | Error {
  if (!json.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return new Error(`request is not JSON (${(err as Error).message})`);
  }
  if (!isObject(value) || !isObject(value.side)) return new Error('request has no side');
  const side = value.side;
  if ((side.id !== 'p1' && side.id !== 'p2') || !Array.isArray(side.pokemon) || side.pokemon.length === 0) return new Error('request side has no id or team');
  for (const p of side.pokemon as unknown[]) {
    if (!isObject(p) || typeof p.ident !== 'string' || typeof p.details !== 'string' || typeof p.condition !== 'string' || !isObject(p.stats) || !Array.isArray(p.moves)) {
      return new Error('request has a malformed Pokémon');
    }
  }
  if (value.active !== undefined) {
    if (!Array.isArray(value.active) || !value.active.every((a) => isObject(a) && Array.isArray(a.moves) && a.moves.every((m) => isObject(m) && typeof m.id === 'string'))) {
      return new Error('request has a malformed active');
    }
  }
  if (value.forceSwitch !== undefined && !Array.isArray(value.forceSwitch)) return new Error('request has a malformed forceSwitch');
  return value as unknown as SimRequest;
}

/** `|updatechallenges|` JSON: who challenges us, in which format. Anything else gives an empty map. */
export function parseChallenges(json: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const value: unknown = JSON.parse(json);
    if (isObject(value) && isObject(value.challengesFrom)) {
      for (const [user, format] of Object.entries(value.challengesFrom)) if (typeof format === 'string') out.set(user, format);
    }
  } catch {
    // not JSON: no challenges
  }
  return out;
}

/** Showdown's user id: lower case letters and digits only. */
export function toId(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}
