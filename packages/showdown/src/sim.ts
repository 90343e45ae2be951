import { createRequire } from 'node:module';
import { TeamGenerators } from '@pkmn/randoms';
import type * as Sim from '@pkmn/sim';

// @pkmn/randoms is CommonJS only and requires @pkmn/sim, so an ESM import here would load the
// simulator and its data a second time (its ESM build): 0.5 s more to start every worker thread.
const sim = createRequire(import.meta.url)('@pkmn/sim') as typeof Sim;
sim.Teams.setGeneratorFactory(TeamGenerators);

export const Battle: typeof Sim.Battle = sim.Battle;
export const Dex: typeof Sim.Dex = sim.Dex;
