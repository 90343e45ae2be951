import { expect } from 'chai';
import { cp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { Teams } from '@pkmn/sim';
import { TeamGenerators } from '@pkmn/randoms';
import { writeShards, readShards } from '@poke/core';
import checkpoint from '@poke/plugin-checkpoint';
import showdown, {
  ACTION_COUNT, FEATURE_SIZE, PlayerView, SWITCH_OFFSET, TERA_OFFSET, describeLayout, encode, expertAction, generateDemonstrations,
  importLog, importReplayFiles, maskFromRequest, playBattle,
} from '@poke/showdown';
import type { SimRequest } from '@poke/showdown';
import { makeTrainer, tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';

Teams.setGeneratorFactory(TeamGenerators);

function request(over: Partial<SimRequest> & { moves?: string[]; team?: Array<Partial<SimRequest['side']['pokemon'][number]>> }): SimRequest {
  const team = (over.team ?? [{}, {}, {}]).map((p, i) => ({
    ident: `p1: Mon${i}`,
    details: 'Snorlax, L80',
    condition: '300/300',
    active: i === 0,
    stats: { atk: 200, def: 150, spa: 150, spd: 200, spe: 100 },
    moves: over.moves ?? ['tackle'],
    ...p,
  }));
  return {
    side: { name: 'p1', id: 'p1', pokemon: team },
    ...(over.forceSwitch ? { forceSwitch: over.forceSwitch } : { active: over.active ?? [{ moves: (over.moves ?? ['tackle']).map((id) => ({ move: id, id, pp: 10, maxpp: 10, disabled: false })) }] }),
  };
}

describe('@poke/showdown', function () {
  this.timeout(300_000);

  it('has a fixed feature layout whose blocks tile the vector', () => {
    const layout = describeLayout();
    let at = 0;
    for (const block of layout) {
      expect(block.offset).to.equal(at);
      at += block.size;
    }
    expect(at).to.equal(FEATURE_SIZE);
    expect(FEATURE_SIZE).to.equal(517);
    expect(ACTION_COUNT).to.equal(13);
  });

  it('encodes only what the player may know: the foe’s unrevealed bench does not change the features', () => {
    const team = (seed: number) => Teams.generate('gen9randombattle', { seed: `gen5,${seed.toString(16).padStart(16, '0')}` } as never);
    const mine = Teams.pack(team(11));
    const foeA = team(12);
    const foeB = [foeA[0]!, ...team(13).slice(1)];
    const first = (foe: typeof foeA) =>
      playBattle({ format: 'gen9randombattle', seed: 5, p1: { kind: 'expert' }, p2: { kind: 'random', seed: 1 }, teams: { p1: mine, p2: Teams.pack(foe) } }).decisions[0]!;
    const a = first(foeA);
    const b = first(foeB);
    expect(a.rqid).to.equal(1);
    expect([...b.features]).to.deep.equal([...a.features]);
    // A different lead is revealed at once, so it must change the features.
    const c = first([foeA[1]!, ...foeA.slice(0, 1), ...foeA.slice(2)]);
    expect([...c.features]).to.not.deep.equal([...a.features]);
  });

  it('masks follow the request: disabled moves, tera variants, trapping, fainted and forced switches', () => {
    const moves = maskFromRequest(request({
      moves: ['tackle', 'surf'],
      active: [{ moves: [{ move: 'Tackle', id: 'tackle', pp: 0, maxpp: 56, disabled: true }, { move: 'Surf', id: 'surf', pp: 5, maxpp: 24, disabled: false }], canTerastallize: 'Water' }],
      team: [{}, { condition: '0 fnt' }, {}],
    }));
    expect([...moves]).to.deep.equal([0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    const trapped = maskFromRequest(request({ active: [{ moves: [{ move: 'Tackle', id: 'tackle', pp: 5, maxpp: 5 }], trapped: true }] }));
    expect([...trapped]).to.deep.equal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const forced = maskFromRequest(request({ forceSwitch: [true], team: [{ condition: '0 fnt' }, {}, { condition: '0 fnt' }, {}] }));
    expect([...forced]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
  });

  it('every recorded action was legal in its mask and accepted by the simulator', () => {
    const result = playBattle({ format: 'gen9randombattle', seed: 3, p1: { kind: 'expert' }, p2: { kind: 'expert' } });
    expect(result.decisions.length).to.be.greaterThan(5);
    for (const d of result.decisions) expect(d.mask[d.action]).to.equal(1);
    expect(result.decisions.some((d) => d.action >= SWITCH_OFFSET)).to.equal(true);
  });

  it('the expert prefers a super-effective move to a stronger resisted one', () => {
    const view = new PlayerView('p1');
    view.addLines(['|player|p1|a||', '|player|p2|b||', '|gen|9', '|teamsize|p1|3', '|teamsize|p2|6', '|start', '|switch|p1a: Mon0|Snorlax, L80|300/300', '|switch|p2a: Charizard|Charizard, L80|100/100', '|turn|1']);
    view.request = request({ moves: ['leafstorm', 'watergun'] });
    const mask = maskFromRequest(view.request);
    expect(expertAction(view, mask)).to.equal(1);
    const features = encode(view);
    expect(features.length).to.equal(FEATURE_SIZE);
    expect(features.every(Number.isFinite)).to.equal(true);
    // Against Rock/Ground, Grass is 4× and Water only 2×: the choice flips.
    const grass = new PlayerView('p1');
    grass.addLines(['|player|p1|a||', '|player|p2|b||', '|gen|9', '|start', '|switch|p1a: Mon0|Snorlax, L80|300/300', '|switch|p2a: Golem|Golem, L80|100/100', '|turn|1']);
    grass.request = view.request;
    expect(expertAction(grass, mask)).to.equal(0);
    expect(TERA_OFFSET).to.equal(4);
    // Recharge (not a dex move) encodes to finite values.
    view.request = request({ active: [{ moves: [{ move: 'Recharge', id: 'recharge' }] }] });
    expect(encode(view).every(Number.isFinite)).to.equal(true);
    expect(expertAction(view, maskFromRequest(view.request))).to.equal(0);
  });

  it('is deterministic: the same options give byte-identical shards, whatever the number of workers', async () => {
    const dir = await tempDir('showdown-det');
    const a = await generateDemonstrations({ battles: 6, seed: 9, workers: 1 });
    const b = await generateDemonstrations({ battles: 6, seed: 9, workers: 2 });
    await writeShards(join(dir, 'a'), a.dataset);
    await writeShards(join(dir, 'b'), b.dataset);
    expect(a.decisions).to.be.greaterThan(30);
    expect(a.dataset.firstInvalidSample()).to.equal(undefined);
    expect(await readFile(join(dir, 'b', 'shard-00000.bin'))).to.deep.equal(await readFile(join(dir, 'a', 'shard-00000.bin')));
    expect(await readFile(join(dir, 'b', 'index.json'), 'utf8')).to.equal(await readFile(join(dir, 'a', 'index.json'), 'utf8'));
  });

  it('importing a generated battle’s player log gives back exactly the recorded (features, mask, action)', () => {
    let recorded = 0;
    let recovered = 0;
    for (let seed = 20; seed < 24; seed++) {
      const result = playBattle({ format: 'gen9randombattle', seed, p1: { kind: 'expert' }, p2: { kind: 'expert' }, keepLog: true });
      for (const side of ['p1', 'p2'] as const) {
        const generated = new Map(result.decisions.filter((d) => d.side === side).map((d) => [d.rqid, d]));
        const imported = importLog(result.playerLogs![side]).decisions;
        recorded += generated.size;
        recovered += imported.length;
        for (const d of imported) {
          const g = generated.get(d.rqid);
          expect(g, `decision ${d.rqid} of ${side}`).to.not.equal(undefined);
          expect(d.action).to.equal(g!.action);
          expect([...d.mask]).to.deep.equal([...g!.mask]);
          expect([...d.features]).to.deep.equal([...g!.features]);
        }
      }
      // The replay text (no requests): requests rebuilt from what the log reveals; actions legal.
      const replay = importLog(result.log!);
      expect(replay.decisions.length).to.be.greaterThan(10);
      for (const d of replay.decisions) expect(d.mask[d.action]).to.equal(1);
    }
    // Only decisions whose action the log cannot show (flinch, sleep, fainting first) are missing.
    expect(recovered / recorded).to.be.greaterThan(0.75);
  });

  it('skips malformed and truncated replays with a count and the first reason', async () => {
    const dir = await tempDir('showdown-bad');
    const good = playBattle({ format: 'gen9randombattle', seed: 31, p1: { kind: 'expert' }, p2: { kind: 'random', seed: 2 }, keepLog: true }).log!;
    await writeFile(join(dir, 'a-truncated.log'), good.slice(0, Math.floor(good.length / 2)));
    await writeFile(join(dir, 'b-bad.json'), '{"log": ');
    await writeFile(join(dir, 'c-nolog.json'), '{"id": "x"}');
    await writeFile(join(dir, 'd-gen8.log'), good.replace('|gen|9', '|gen|8'));
    await writeFile(join(dir, 'e-garbage.log'), '\u0000\u0001 nothing here');
    await writeFile(join(dir, 'f-good.json'), JSON.stringify({ id: 'gen9randombattle-1', log: good }));
    // Only the files written above: the temp folder also holds the package.json that bounds config search.
    const files = (await readdir(dir)).filter((f) => /^[a-f]-/.test(f)).sort().map((f) => join(dir, f));
    const result = await importReplayFiles(files);
    expect(result.skipped).to.equal(5);
    expect(result.battles).to.equal(1);
    expect(result.firstSkipReason).to.match(/^a-truncated\.log: truncated/);
    expect(result.decisions.length).to.be.greaterThan(5);
  });

  it('poke data generate / import / eval through the real binary, and the data source in a Trainer', async () => {
    const dir = await tempDir('showdown-cli');
    const gen = await poke(['data', 'generate', '--battles', '4', '--workers', '2', '--out', 'demo', '--logs', 'logs', '--json'], dir);
    expect(gen.code, gen.stderr).to.equal(0);
    const summary = JSON.parse(gen.stdout) as { battles: number; decisions: number; battlesPerSecond: number };
    expect(summary.battles).to.equal(4);
    expect((await readShards(join(dir, 'demo'))).size).to.equal(summary.decisions);

    await writeFile(join(dir, 'logs', 'broken.log'), '|start\n|turn|1\n');
    const imp = await poke(['data', 'import', 'logs/00000.log', 'logs/00001.p1.log', 'logs/broken.log', '--out', 'imported'], dir);
    expect(imp.code, imp.stderr).to.equal(0);
    expect(imp.stdout).to.match(/imported 2 battles/);
    expect(imp.stdout).to.match(/skipped 1 file\(s\); first: broken\.log: truncated/);
    expect((await readShards(join(dir, 'imported'))).size).to.be.greaterThan(10);

    // The data source, end to end in a Trainer, with checkpoints for poke eval.
    const user = {
      runName: 'sd',
      data: { source: 'showdown', battles: 30, workers: 2 },
      model: { hiddenSizes: [64] },
      train: { epochs: 3, batchSize: 64, backend: 'cpu' as const },
    };
    const messages: string[] = [];
    const logger = { info: (m: string) => messages.push(m), warn: () => {}, error: () => {}, debug: () => {} };
    const trainer = await makeTrainer(user, dir, { plugins: [showdown(), checkpoint()], logger: logger as never });
    const run = await trainer.run();
    expect(run.status).to.equal('completed');
    expect(trainer.dataset.featureSize).to.equal(FEATURE_SIZE);
    const cache = join(dir, 'runs', '.cache', 'showdown');
    expect((await readdir(cache)).length).to.equal(1);
    // A second run reuses the cache.
    const again = await makeTrainer({ ...user, runName: 'sd2' }, dir, { plugins: [showdown()], logger: logger as never });
    await again.run();
    expect(messages.some((m) => /reusing \d+ cached decisions/.test(m))).to.equal(true);

    const ev = await poke(['eval', 'runs/sd', '--vs', 'random', '--battles', '6', '--backend', 'cpu', '--json'], dir);
    expect(ev.code, ev.stderr).to.equal(0);
    const result = JSON.parse(ev.stdout) as { battles: number; wins: number; winRate: number; ci95: [number, number] };
    expect(result.battles).to.equal(6);
    expect(result.ci95[0]).to.be.at.most(result.winRate);
    expect(result.ci95[1]).to.be.at.least(result.winRate);
    expect(existsSync(join(dir, 'runs', 'sd', 'eval.json'))).to.equal(true);
    // One battle at a time (each decision its own forward pass) plays the same battles as the batched default.
    const serial = await poke(['eval', 'runs/sd', '--vs', 'random', '--battles', '6', '--backend', 'cpu', '--concurrency', '1', '--json'], dir);
    expect(serial.code, serial.stderr).to.equal(0);
    expect(JSON.parse(serial.stdout)).to.include({ wins: result.wins, winRate: result.winRate, meanTurns: (result as { meanTurns?: number }).meanTurns, concurrency: 1 });
    const text = await poke(['eval', 'runs/sd', '--vs', 'expert', '--battles', '3', '--backend', 'cpu'], dir);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/win rate vs expert: [\d.]+% \(95% CI [\d.]+%–[\d.]+%\) over 3 battles/);
    // poke compare shows both evaluations from eval.json, the newest (expert) in the table.
    const compared = await poke(['compare', 'runs', '--json'], dir);
    expect(compared.code, compared.stderr).to.equal(0);
    const row = (JSON.parse(compared.stdout) as Array<{ name: string; winRate: number; evals: Array<{ opponent: string; games: number; winRate: number; ci95: number[] }> }>).find((r) => r.name === 'sd')!;
    expect(row.evals.map((e) => [e.opponent, e.games])).to.deep.equal([['random', 6], ['expert', 3]]);
    expect(row.evals[0]).to.include({ winRate: result.winRate });
    expect(row.evals[0]!.ci95).to.deep.equal(result.ci95);
    expect(row.winRate).to.equal(row.evals[1]!.winRate);
    const table = await poke(['compare', 'runs'], dir);
    expect(table.stdout).to.match(/win rate/).and.match(/\bsd\b.*\d+\.\d% vs expert/);
    // Head to head: a run against itself, sides and seeds balanced, wins exactly half; eval.json keys it by path.
    const h2h = await poke(['eval', 'runs/sd', '--vs', 'runs/sd', '--battles', '4', '--backend', 'cpu', '--json'], dir);
    expect(h2h.code, h2h.stderr).to.equal(0);
    expect(JSON.parse(h2h.stdout)).to.include({ vs: join('runs', 'sd'), battles: 4, winRate: 0.5 });
    const evals = JSON.parse(await readFile(join(dir, 'runs', 'sd', 'eval.json'), 'utf8')) as Record<string, { vs: string }>;
    expect(Object.keys(evals)).to.deep.equal(['random', 'expert', join('runs', 'sd')]);
    const bad = await poke(['eval', 'nowhere', '--battles', '2'], dir);
    expect(bad.code).to.equal(2);
    // A run folder named as a built-in player is played as the folder, and named ./random so the two never mix.
    await cp(join(dir, 'runs', 'sd'), join(dir, 'random'), { recursive: true });
    const folder = await poke(['eval', 'heuristic', '--vs', 'random', '--battles', '2', '--backend', 'cpu', '--json'], dir);
    expect(folder.code, folder.stderr).to.equal(0);
    expect(JSON.parse(folder.stdout)).to.include({ vs: `.${sep}random`, battles: 2 });
  });
});
