import { expect } from 'chai';
import { EvalWorkers, builtinFor, evaluatePolicy, evaluatePolicyParallel, playMatch, playMatchParallel, policyAgent, policyFor } from '@poke/showdown';
import type { AgentFor, BattleOutcome, EvalResult, PolicyAgent } from '@poke/showdown';
import checkpoint from '@poke/plugin-checkpoint';
import showdown from '@poke/showdown';
import { makeTrainer, tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';
import { untrainedPolicies } from './untrained-policies.js';

type Played = { outcomes: BattleOutcome[]; summary: Partial<EvalResult> };

/** Every battle's outcome by index, and the summary without its settings and timing. */
function outcomes(run: (onResult: (i: number, o: BattleOutcome) => void) => EvalResult): Played {
  const all: BattleOutcome[] = [];
  const { seconds: _s, concurrency: _c, workers: _w, ...summary } = run((i, o) => (all[i] = o));
  return { outcomes: all, summary };
}

async function outcomesAsync(run: (onResult: (i: number, o: BattleOutcome) => void) => Promise<EvalResult>): Promise<Played & { workers: number }> {
  const all: BattleOutcome[] = [];
  const { seconds: _s, concurrency: _c, workers, ...summary } = await run((i, o) => (all[i] = o));
  return { outcomes: all, summary, workers };
}

describe('@poke/showdown eval on worker threads', function () {
  this.timeout(300_000);
  const models = untrainedPolicies();

  it('plays the same battles as the one-thread path, at any number of workers and concurrency, head to head included', async () => {
    const [a, b] = models.map((m) => policyFor(policyAgent(m))) as [AgentFor, AgentFor];
    // Every setting head to head (two policies, both answered on this thread); one against built-in players, either side.
    const grid = [1, 2, 3].flatMap((workers) => [1, 5].map((concurrency) => ({ workers, concurrency })));
    const cases: Array<[string, AgentFor, AgentFor, typeof grid]> = [
      ['policy vs policy', a, b, grid],
      ['policy vs random', a, builtinFor('random', 7, 'opponent'), [{ workers: 3, concurrency: 2 }]],
      ['heuristic vs policy', builtinFor('heuristic', 7, 'player'), b, [{ workers: 2, concurrency: 5 }]],
    ];
    for (const [name, p, o, settings] of cases) {
      const reference = outcomes((onResult) => playMatch(p, o, 'o', { battles: 7, seed: 7, concurrency: 1, onResult }));
      expect(reference.outcomes.filter(Boolean), name).to.have.length(7);
      for (const { workers, concurrency } of settings) {
        const progress: number[] = [];
        const played = await outcomesAsync((onResult) =>
          playMatchParallel(p, o, 'o', { battles: 7, seed: 7, concurrency, workers, onResult, onBattle: (done) => progress.push(done) }),
        );
        expect(played.workers, name).to.equal(workers);
        expect({ outcomes: played.outcomes, summary: played.summary }, `${name}, ${workers} workers, concurrency ${concurrency}`).to.deep.equal(reference);
        expect(progress, name).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      }
    }
  });

  it('evaluatePolicyParallel equals evaluatePolicy; a side a worker cannot play keeps the match on this thread', async () => {
    const agent = policyAgent(models[0]!);
    const one = outcomes((onResult) => evaluatePolicy(agent, { vs: 'maxpower', battles: 6, seed: 3, concurrency: 4, onResult }));
    const two = await outcomesAsync((onResult) => evaluatePolicyParallel(agent, { vs: 'maxpower', battles: 6, seed: 3, concurrency: 4, workers: 2, onResult }));
    expect({ outcomes: two.outcomes, summary: two.summary }).to.deep.equal(one);
    expect(two.workers).to.equal(2);
    // A plain function (here the policy without `portable`) cannot cross threads: played here, the same battles.
    const plain = await outcomesAsync((onResult) => playMatchParallel(() => agent, builtinFor('maxpower', 3, 'opponent'), 'maxpower', { battles: 6, seed: 3, workers: 2, onResult }));
    expect(plain.workers).to.equal(1);
    expect({ outcomes: plain.outcomes, summary: plain.summary }).to.deep.equal(one);
  });

  it('one set of threads plays match after match, each as the one-thread path plays it, and goes on after a failed match', async () => {
    const [a, b] = models.map((m) => policyFor(policyAgent(m))) as [AgentFor, AgentFor];
    const pool = new EvalWorkers(2);
    try {
      const pairs: Array<[string, AgentFor, AgentFor]> = [
        ['policy vs random', a, builtinFor('random', 5, 'opponent')],
        ['policy vs policy', a, b],
        ['heuristic vs policy', builtinFor('heuristic', 5, 'player'), b],
      ];
      for (const [name, p, o] of pairs) {
        const reference = outcomes((onResult) => playMatch(p, o, 'o', { battles: 5, seed: 5, concurrency: 1, onResult }));
        const played = await outcomesAsync((onResult) => playMatchParallel(p, o, 'o', { battles: 5, seed: 5, concurrency: 3, pool, onResult }));
        expect(played.workers, name).to.equal(2);
        expect({ outcomes: played.outcomes, summary: played.summary }, name).to.deep.equal(reference);
      }
      const failed = await playMatchParallel(a, builtinFor('random', 1, 'opponent'), 'random', { battles: 4, format: 'gen9nosuchformat', pool }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failed?.message).to.match(/gen9nosuchformat/);
      const reference = outcomes((onResult) => playMatch(a, b, 'o', { battles: 4, seed: 9, concurrency: 1, onResult }));
      const again = await outcomesAsync((onResult) => playMatchParallel(a, b, 'o', { battles: 4, seed: 9, concurrency: 2, pool, onResult }));
      expect({ outcomes: again.outcomes, summary: again.summary }, 'after the failure').to.deep.equal(reference);
    } finally {
      await pool.close();
    }
  });

  it('a battle that throws in a worker fails the match with a message naming the battle, and every worker ends', async () => {
    const a = policyFor(policyAgent(models[0]!));
    const failed = await playMatchParallel(a, builtinFor('random', 1, 'opponent'), 'random', { battles: 6, format: 'gen9nosuchformat', workers: 2 }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failed?.message).to.match(/^poke eval: battle \d failed: .*gen9nosuchformat/);
  });

  it('a policy that throws on this thread fails the match, and every worker ends', async () => {
    const broken: PolicyAgent = {
      kind: 'policy',
      choose: () => {
        throw new Error('no answer');
      },
    };
    const failed = await playMatchParallel(policyFor(broken), builtinFor('random', 1, 'opponent'), 'random', { battles: 4, workers: 2 }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failed?.message).to.equal('no answer');
  });

  it('poke eval --workers 2 prints the result of --workers 1, head to head included; --help names --workers', async () => {
    const dir = await tempDir('showdown-workers');
    const user = { runName: 'sd', data: { source: 'showdown', battles: 10, workers: 1 }, model: { hiddenSizes: [32] }, train: { epochs: 1, batchSize: 64, backend: 'cpu' as const } };
    const trainer = await makeTrainer(user, dir, { plugins: [showdown(), checkpoint()] });
    expect((await trainer.run()).status).to.equal('completed');
    const run = async (args: string[]) => {
      const r = await poke(['eval', ...args, '--battles', '5', '--concurrency', '2', '--backend', 'cpu'], dir);
      expect(r.code, r.stderr).to.equal(0);
      return r.stdout;
    };
    const matrix = ['runs/sd', '--vs', 'runs/sd,random'];
    const serial = await run([...matrix, '--workers', '1']);
    expect(serial).to.match(/vs runs\/sd/);
    expect(await run([...matrix, '--workers', '2'])).to.equal(serial);
    const record = async (workers: string) => {
      const { seconds: _s, timestamp: _t, ...rest } = JSON.parse(await run(['heuristic', '--vs', 'random', '--workers', workers, '--json'])) as Record<string, unknown>;
      return rest;
    };
    const one = await record('1');
    const two = await record('2');
    expect(one).to.include({ workers: 1, concurrency: 2, battles: 5 });
    expect(two).to.include({ workers: 2 });
    expect({ ...two, workers: 1 }).to.deep.equal(one);
    const help = await poke(['eval', '--help'], dir);
    expect(help.stdout).to.match(/--workers <n>/);
    expect((await poke(['eval', 'heuristic', '--workers', '0'], dir)).code).to.equal(2);
  });
});
