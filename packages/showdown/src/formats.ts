import { Dex } from './sim.js';

/**
 * The formats poke plays: the simulator's gen 9 singles random battles. The encoder's view and its
 * 13 actions are one active Pokémon a side, and the format brings both teams (poke has none to give).
 */
export const FORMATS: readonly string[] = Object.freeze(
  Dex.formats
    .all()
    .filter((f) => f.mod === 'gen9' && f.gameType === 'singles' && f.team === 'random')
    .map((f) => f.id),
);

/** Why poke cannot play `id`, or undefined when it can. */
export function formatProblem(id: string): string | undefined {
  if (FORMATS.includes(id)) return undefined;
  const known = Dex.formats.get(id);
  const why = known.exists ? `${known.name} is not a gen 9 singles random battle` : 'the simulator has no such format';
  return `"${id}": ${why}; poke plays ${FORMATS.join(', ')}`;
}
