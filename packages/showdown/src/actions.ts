/**
 * The action space of a singles battle (gen 9): 13 actions.
 *   0–3   move 1–4 (the request's move order)
 *   4–7   move 1–4 and terastallize
 *   8–12  switch to team slot 2–6 (the request's team order)
 * The mask comes from the request: exactly the choices the simulator would accept.
 */
export const ACTION_COUNT = 13;
export const MOVE_ACTIONS = 4;
export const TERA_OFFSET = 4;
export const SWITCH_OFFSET = 8;

/** The parts of a simulator `|request|` the encoder and the players read. */
export interface SimRequest {
  rqid?: number;
  wait?: boolean;
  teamPreview?: boolean;
  forceSwitch?: boolean[];
  active?: Array<{
    moves: Array<{ move: string; id: string; pp?: number; maxpp?: number; disabled?: boolean | string; target?: string }>;
    canTerastallize?: string;
    trapped?: boolean;
    maybeTrapped?: boolean;
  }>;
  side: {
    name: string;
    id: 'p1' | 'p2';
    pokemon: Array<{
      ident: string;
      details: string;
      condition: string;
      active?: boolean;
      stats: Record<'atk' | 'def' | 'spa' | 'spd' | 'spe', number>;
      moves: string[];
      baseAbility?: string;
      ability?: string;
      item?: string;
      teraType?: string;
      terastallized?: string;
      reviving?: boolean;
    }>;
  };
}

/** Whether the request asks this player to choose (not a wait or team preview). */
export function needsDecision(request: SimRequest | undefined): request is SimRequest {
  return Boolean(request && !request.wait && !request.teamPreview && (request.forceSwitch?.[0] || request.active?.[0]));
}

export function isFainted(condition: string): boolean {
  return condition.endsWith(' fnt') || condition === '0 fnt';
}

/** Legal actions of a request, as a 0/1 mask of ACTION_COUNT entries. */
export function maskFromRequest(request: SimRequest, out = new Uint8Array(ACTION_COUNT)): Uint8Array {
  out.fill(0);
  const team = request.side.pokemon;
  const reviving = team.some((p) => p.reviving);
  const canSwitch = (j: number): boolean => {
    const p = team[j];
    if (!p || p.active) return false;
    return reviving ? isFainted(p.condition) : !isFainted(p.condition);
  };
  if (request.forceSwitch?.[0]) {
    for (let j = 1; j < Math.min(team.length, 6); j++) if (canSwitch(j)) out[SWITCH_OFFSET + j - 1] = 1;
    return out;
  }
  const active = request.active?.[0];
  if (!active) return out;
  active.moves.slice(0, MOVE_ACTIONS).forEach((m, i) => {
    if (m.disabled) return;
    out[i] = 1;
    if (active.canTerastallize) out[TERA_OFFSET + i] = 1;
  });
  if (!active.trapped && !active.maybeTrapped) {
    for (let j = 1; j < Math.min(team.length, 6); j++) if (canSwitch(j)) out[SWITCH_OFFSET + j - 1] = 1;
  }
  return out;
}

/** The simulator choice string of an action. */
export function choiceOf(action: number): string {
  if (action < TERA_OFFSET) return `move ${action + 1}`;
  if (action < SWITCH_OFFSET) return `move ${action - TERA_OFFSET + 1} terastallize`;
  return `switch ${action - SWITCH_OFFSET + 2}`;
}

export function actionName(action: number): string {
  return choiceOf(action);
}
