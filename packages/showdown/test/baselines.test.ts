import { expect } from 'chai';
import { Rng } from '@poke/core';
import {
  PlayerView, SWITCH_OFFSET, builtinFor, generateDemonstrations, heuristicAction, maskFromRequest, maxPowerAction, playBattle, playMatch,
} from '@poke/showdown';
import type { SimRequest } from '@poke/showdown';
import { tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';

type Mon = Partial<SimRequest['side']['pokemon'][number]>;

/** A p1 view with `own` (request order, the first active) against one revealed foe. */
function view(own: Array<Mon & { details: string; moves: string[] }>, foe: string, extra: string[] = []): PlayerView {
  const v = new PlayerView('p1');
  const lead = own[0]!;
  v.addLines([
    '|player|p1|a||', '|player|p2|b||', '|gen|9', '|teamsize|p1|6', '|teamsize|p2|6', '|start',
    `|switch|p1a: Lead|${lead.details}|300/300`, `|switch|p2a: Foe|${foe}|100/100`, ...extra, '|turn|1',
  ]);
  const team = own.map((p, i) => ({
    ident: `p1: Mon${i}`, condition: '300/300', active: i === 0, stats: { atk: 200, def: 150, spa: 150, spd: 200, spe: 100 }, ...p,
  }));
  v.request = {
    side: { name: 'a', id: 'p1', pokemon: team as SimRequest['side']['pokemon'] },
    active: [{ moves: lead.moves.map((id) => ({ move: id, id, pp: 10, maxpp: 10, disabled: false })) }],
  };
  return v;
}

describe('@poke/showdown baselines (after poke-env)', function () {
  this.timeout(300_000);
  const rng = () => Rng.fromSeed(1);

  it('maxpower picks the highest base power, whatever the types; forced to switch, a legal switch', () => {
    // Against Golem, Leaf Storm (130, 4×) and Water Gun (40, 2×): base power alone decides.
    const v = view([{ details: 'Snorlax, L80', moves: ['watergun', 'leafstorm', 'swordsdance'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Golem, L80');
    expect(maxPowerAction(v, maskFromRequest(v.request!), rng())).to.equal(1);
    const tackle = view([{ details: 'Snorlax, L80', moves: ['tackle', 'earthquake'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Pelipper, L80');
    expect(maxPowerAction(tackle, maskFromRequest(tackle.request!), rng())).to.equal(1);
    const forced = view([{ details: 'Snorlax, L80', moves: ['tackle'], condition: '0 fnt' }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Golem, L80');
    forced.request = { ...forced.request!, forceSwitch: [true] };
    delete forced.request.active;
    expect(maxPowerAction(forced, maskFromRequest(forced.request), rng())).to.equal(SWITCH_OFFSET);
  });

  it('heuristic weighs type, STAB and stats, lays Spikes early, and switches out of a lost matchup', () => {
    // Earthquake is useless against the Flying foe; Ice Beam is 4× on Dragon/Flying.
    const v = view([{ details: 'Lapras, L80', moves: ['earthquake', 'icebeam'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Dragonite, L80');
    expect(heuristicAction(v, maskFromRequest(v.request!), rng())).to.equal(1);
    const spikes = view([{ details: 'Lapras, L80', moves: ['icebeam', 'spikes'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Snorlax, L80');
    expect(heuristicAction(spikes, maskFromRequest(spikes.request!), rng())).to.equal(1);
    // Spikes already down: back to attacking.
    const laid = view([{ details: 'Lapras, L80', moves: ['icebeam', 'spikes'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }], 'Snorlax, L80', ['|-sidestart|p2: b|Spikes']);
    expect(heuristicAction(laid, maskFromRequest(laid.request!), rng())).to.equal(0);
    // Bug/Steel against Fire: a matchup below −2, and Blastoise (not Pikachu) has the best one in the back.
    const lost = view(
      [{ details: 'Scizor, L80', moves: ['bulletpunch'] }, { details: 'Pikachu, L80', moves: ['thunderbolt'] }, { details: 'Blastoise, L80', moves: ['surf'] }],
      'Arcanine, L80',
    );
    expect(heuristicAction(lost, maskFromRequest(lost.request!), rng())).to.equal(SWITCH_OFFSET + 1);
  });

  it('every baseline plays only actions the simulator accepts, and they rank random < maxpower < heuristic', () => {
    for (const [p1, p2] of [['maxpower', 'heuristic'], ['heuristic', 'random']] as const) {
      const result = playBattle({ format: 'gen9randombattle', seed: 4, p1: { kind: p1, seed: 1 }, p2: { kind: p2, seed: 2 }, record: ['p1', 'p2'] });
      expect(result.decisions.length).to.be.greaterThan(10);
      for (const d of result.decisions) expect(d.mask[d.action], `${d.side} ${d.action}`).to.equal(1);
    }
    const match = (a: 'random' | 'maxpower' | 'heuristic', b: 'random' | 'maxpower' | 'heuristic') =>
      playMatch(builtinFor(a, 3, 'player'), builtinFor(b, 3, 'opponent'), b, { battles: 20, seed: 3 }).winRate;
    expect(match('maxpower', 'random')).to.be.greaterThan(0.7);
    expect(match('heuristic', 'maxpower')).to.be.greaterThan(0.6);
  });

  it('poke data generate --player heuristic records the heuristic (both sides against itself)', async () => {
    const alone = await generateDemonstrations({ battles: 3, player: 'heuristic', opponent: 'random', seed: 5, workers: 1 });
    const both = await generateDemonstrations({ battles: 3, player: 'heuristic', opponent: 'heuristic', seed: 5, workers: 1 });
    expect(alone.decisions).to.be.greaterThan(10);
    expect(both.decisions).to.be.greaterThan(alone.decisions);
    const expert = await generateDemonstrations({ battles: 3, opponent: 'random', seed: 5, workers: 1 });
    expect([...expert.dataset.labels]).to.not.deep.equal([...alone.dataset.labels]);
  });

  it('poke eval: a list of opponents gives a matrix; sides and seeds balanced make a player even with itself', async () => {
    const dir = await tempDir('showdown-matrix');
    const json = await poke(['eval', 'heuristic', 'maxpower', '--vs', 'random,expert', '--battles', '4', '--json'], dir);
    expect(json.code, json.stderr).to.equal(0);
    const records = JSON.parse(json.stdout) as Array<{ player: string; vs: string; battles: number; winRate: number; ci95: [number, number] }>;
    expect(records.map((r) => [r.player, r.vs, r.battles])).to.deep.equal([['heuristic', 'random', 4], ['heuristic', 'expert', 4], ['maxpower', 'random', 4], ['maxpower', 'expert', 4]]);
    for (const r of records) expect(r.ci95[0]).to.be.at.most(r.winRate).and.to.be.at.most(r.ci95[1]);
    // Each seed is played from both sides: a deterministic player wins exactly one of each pair against itself.
    const mirror = await poke(['eval', 'expert', '--vs', 'expert', '--battles', '10', '--json'], dir);
    expect(mirror.code, mirror.stderr).to.equal(0);
    expect(JSON.parse(mirror.stdout)).to.include({ wins: 5, losses: 5, winRate: 0.5 });
    const table = await poke(['eval', 'heuristic', '--vs', 'random', '--vs', 'maxpower', '--battles', '2'], dir);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/vs random\s+vs maxpower/).and.match(/^heuristic\s+\d+\.\d% \(\d+\.\d%–\d+\.\d%\)/m);
    const bad = await poke(['eval', 'heuristic', '--vs', 'nobody', '--battles', '2'], dir);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/nobody does not exist \(built-in players: random, maxpower, heuristic, expert\)/);
  });
});
