/**
 * The feature layout: one Float32 vector per decision, built only from what the
 * deciding player may know (its own request and the protocol lines it received).
 * Every block below is at a fixed offset; docs/showdown.md lists them.
 */

/** Bump when anything about the features, the mask or the action space changes (it keys the cache). */
export const ENCODER_VERSION = 1;

export const TYPES = [
  'Normal', 'Fire', 'Water', 'Electric', 'Grass', 'Ice', 'Fighting', 'Poison', 'Ground',
  'Flying', 'Psychic', 'Bug', 'Rock', 'Ghost', 'Dragon', 'Dark', 'Steel', 'Fairy', 'Stellar',
] as const;
export const TYPE_INDEX: ReadonlyMap<string, number> = new Map(TYPES.map((t, i) => [t, i]));
export const STATUSES = ['brn', 'par', 'slp', 'frz', 'psn', 'tox'] as const;
export const BOOSTS = ['atk', 'def', 'spa', 'spd', 'spe', 'accuracy', 'evasion'] as const;
export const STATS = ['atk', 'def', 'spa', 'spd', 'spe'] as const;
export const WEATHERS = ['sunnyday', 'raindance', 'sandstorm', 'snowscape'] as const;
export const TERRAINS = ['electricterrain', 'grassyterrain', 'psychicterrain', 'mistyterrain'] as const;
export const SIDE_CONDITIONS = ['stealthrock', 'spikes', 'toxicspikes', 'stickyweb', 'reflect', 'lightscreen', 'auroraveil', 'tailwind'] as const;

const T = TYPES.length;

/** One move slot of the own active Pokémon. */
export const MOVE_BLOCK = {
  present: 0,
  type: 1, // T one-hot
  power: 1 + T, // effective base power / 150
  physical: 2 + T,
  special: 3 + T,
  status: 4 + T,
  accuracy: 5 + T, // 1 for never-miss moves
  pp: 6 + T, // pp / maxpp
  legal: 7 + T,
  stab: 8 + T,
  effectiveness: 9 + T, // log2(multiplier vs the foe's active) / 2, −1.5 when immune
  expected: 10 + T, // expected damage score (see expert.ts) / 300
  expectedTera: 11 + T, // the same after terastallizing
  priority: 12 + T, // priority / 5
  size: 13 + T,
} as const;

/** One of the own bench slots (request order, slots 2–6). */
export const BENCH_BLOCK = {
  present: 0,
  fainted: 1,
  hp: 2,
  statused: 3,
  type: 4, // T multi-hot
  bestExpected: 4 + T, // its best expected damage score vs the foe's active / 300
  threat: 5 + T, // foe's active types' best multiplier against it, log2 / 2
  size: 6 + T,
} as const;

/** One of the foe's revealed bench Pokémon (order of first appearance). */
export const FOE_BENCH_BLOCK = {
  present: 0,
  fainted: 1,
  hp: 2,
  type: 3, // T multi-hot
  size: 3 + T,
} as const;

interface Block {
  readonly name: string;
  readonly size: number;
  readonly doc: string;
}

const BLOCKS: readonly Block[] = [
  { name: 'self.types', size: T, doc: 'own active: current types (tera type once terastallized), multi-hot' },
  { name: 'self.hp', size: 1, doc: 'own active: HP fraction' },
  { name: 'self.status', size: STATUSES.length, doc: 'own active: status one-hot (brn par slp frz psn tox)' },
  { name: 'self.boosts', size: BOOSTS.length, doc: 'own active: boosts / 6 (atk def spa spd spe accuracy evasion)' },
  { name: 'self.stats', size: STATS.length, doc: 'own active: stats / 500 (atk def spa spd spe)' },
  { name: 'self.tera', size: 2 + T, doc: 'own active: can terastallize, is terastallized, tera type one-hot' },
  { name: 'self.threat', size: 2, doc: "log2(best multiplier of the foe active's types vs own active)/2; same for the foe's revealed moves" },
  { name: 'self.moves', size: 4 * MOVE_BLOCK.size, doc: '4 move slots (request order), each MOVE_BLOCK' },
  { name: 'bench', size: 5 * BENCH_BLOCK.size, doc: 'own team slots 2–6 (request order), each BENCH_BLOCK' },
  { name: 'foe.present', size: 1, doc: 'foe has an active Pokémon' },
  { name: 'foe.types', size: T, doc: "foe active: current (seen) types, multi-hot" },
  { name: 'foe.hp', size: 1, doc: 'foe active: HP as the percentage shown to players / 100' },
  { name: 'foe.status', size: STATUSES.length, doc: 'foe active: status one-hot' },
  { name: 'foe.boosts', size: BOOSTS.length, doc: 'foe active: boosts / 6' },
  { name: 'foe.tera', size: 1, doc: 'foe active is terastallized' },
  { name: 'foe.baseStats', size: 6, doc: 'foe active: species base stats / 255 (hp atk def spa spd spe)' },
  { name: 'foe.revealedMoveTypes', size: T, doc: "types of the foe active's revealed moves, multi-hot" },
  { name: 'foe.side', size: 5, doc: 'foe: revealed/6, fainted/6, unrevealed/6, mean HP of revealed living, has terastallized' },
  { name: 'foe.bench', size: 5 * FOE_BENCH_BLOCK.size, doc: "foe's revealed non-active Pokémon, each FOE_BENCH_BLOCK" },
  { name: 'field.weather', size: WEATHERS.length, doc: 'sun, rain, sand, snow' },
  { name: 'field.terrain', size: TERRAINS.length, doc: 'electric, grassy, psychic, misty' },
  { name: 'field.trickRoom', size: 1, doc: 'Trick Room is up' },
  { name: 'self.sideConditions', size: SIDE_CONDITIONS.length, doc: 'own side: rocks, spikes/3, toxic spikes/2, web, reflect, light screen, veil, tailwind' },
  { name: 'foe.sideConditions', size: SIDE_CONDITIONS.length, doc: "foe's side, same order" },
  { name: 'meta', size: 3, doc: 'forced switch, turn/100, own Pokémon left/6' },
];

export const OFFSETS: Readonly<Record<string, number>> = (() => {
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const block of BLOCKS) {
    offsets[block.name] = at;
    at += block.size;
  }
  return offsets;
})();

export const FEATURE_SIZE = BLOCKS.reduce((sum, b) => sum + b.size, 0);

/** The layout as a table (name, offset, size, meaning), for docs and `index.json` meta. */
export function describeLayout(): Array<{ name: string; offset: number; size: number; doc: string }> {
  return BLOCKS.map((b) => ({ name: b.name, offset: OFFSETS[b.name]!, size: b.size, doc: b.doc }));
}

export function offsetOf(name: string): number {
  const offset = OFFSETS[name];
  if (offset === undefined) throw new Error(`no feature block ${name}`);
  return offset;
}
