import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@poke/core';
import {
  ACTION_COUNT, FEATURE_SIZE, answerAll, builtinFor, playBattle, playMatch, policyAgent, policyLogits,
} from '@poke/showdown';
import type { AgentFor, BattleOutcome, EvalResult, PolicyAgent, PolicyQuestion } from '@poke/showdown';
import { tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';
import { untrainedPolicies } from './untrained-policies.js';

/** Every battle's outcome by index, and the summary without its timing fields. */
function match(a: AgentFor, b: AgentFor, concurrency: number, battles = 12): { outcomes: BattleOutcome[]; summary: Partial<EvalResult> } {
  const outcomes: BattleOutcome[] = [];
  const { seconds: _s, concurrency: _c, ...summary } = playMatch(a, b, 'b', { battles, seed: 7, concurrency, onResult: (i, o) => (outcomes[i] = o) });
  return { outcomes, summary };
}

describe('@poke/showdown batched evaluation', function () {
  this.timeout(300_000);
  const models = untrainedPolicies();

  it('batched logits equal one-row logits, and the batched choice equals the single one', () => {
    const decisions = [3, 4].flatMap((seed) => playBattle({ format: 'gen9randombattle', seed, p1: { kind: 'expert' }, p2: { kind: 'expert' } }).decisions);
    expect(decisions.length).to.be.greaterThan(40);
    const stacked = new Float32Array(decisions.length * FEATURE_SIZE);
    decisions.forEach((d, i) => stacked.set(d.features, i * FEATURE_SIZE));
    const batched = policyLogits(models[0]!, stacked, decisions.length);
    const agent = policyAgent(models[0]!);
    const chosen = agent.chooseBatch!(stacked, decisions.map((d) => d.mask));
    decisions.forEach((d, i) => {
      const single = policyLogits(models[0]!, d.features, 1);
      const row = batched.subarray(i * ACTION_COUNT, (i + 1) * ACTION_COUNT);
      for (let a = 0; a < ACTION_COUNT; a++) expect(row[a]).to.be.closeTo(single[a]!, 1e-5);
      // On cpu the sum order of a row does not depend on the batch: exactly equal.
      expect([...row]).to.deep.equal([...single]);
      expect(chosen[i]).to.equal(agent.choose(d.features, d.mask));
      expect(d.mask[chosen[i]!]).to.equal(1);
    });
  });

  it('on the other backends that load here (tensorflow, wasm), batched logits equal one-row logits within float tolerance', async () => {
    const decisions = playBattle({ format: 'gen9randombattle', seed: 6, p1: { kind: 'expert' }, p2: { kind: 'expert' } }).decisions.slice(0, 24);
    const stacked = new Float32Array(decisions.length * FEATURE_SIZE);
    decisions.forEach((d, i) => stacked.set(d.features, i * FEATURE_SIZE));
    const tried: string[] = [];
    try {
      for (const backend of ['tensorflow', 'wasm'] as const) {
        if (!(await selectBackend(backend).then(() => true, () => false))) continue;
        tried.push(backend);
        const batched = policyLogits(models[0]!, stacked, decisions.length);
        decisions.forEach((d, i) => {
          const single = policyLogits(models[0]!, d.features, 1);
          for (let a = 0; a < ACTION_COUNT; a++) expect(batched[i * ACTION_COUNT + a], `${backend} row ${i}`).to.be.closeTo(single[a]!, 1e-4);
        });
      }
    } finally {
      await selectBackend('cpu');
    }
    expect(tried).to.include('wasm');
  });

  it('answers questions of several policies, each policy in one pass, in the order asked', () => {
    const [a, b] = models.map((m) => policyAgent(m)) as [PolicyAgent, PolicyAgent];
    const { decisions } = playBattle({ format: 'gen9randombattle', seed: 5, p1: { kind: 'expert' }, p2: { kind: 'expert' } });
    const questions: PolicyQuestion[] = decisions.slice(0, 10).map((d, i) => ({ agent: i % 3 ? a : b, side: d.side, features: d.features, mask: d.mask }));
    const calls: number[] = [];
    const counted = (agent: PolicyAgent): PolicyAgent => ({ ...agent, chooseBatch: (f, m) => (calls.push(m.length), agent.chooseBatch!(f, m)) });
    const ca = counted(a);
    const cb = counted(b);
    const answers = answerAll(questions.map((q) => ({ ...q, agent: q.agent === a ? ca : cb })));
    expect(answers).to.deep.equal(questions.map((q) => q.agent.choose(q.features, q.mask)));
    // One pass per policy, in the order each first asked (b asked question 0).
    expect(calls).to.deep.equal([4, 6]);
  });

  it('is deterministic: the same seed gives the same battles whatever the concurrency, and again on a second run', () => {
    const agent = policyAgent(models[0]!);
    const player: AgentFor = () => agent;
    const random = builtinFor('random', 7, 'opponent');
    const one = match(player, random, 1);
    const many = match(player, random, 5);
    expect(many).to.deep.equal(one);
    expect(match(player, random, 5)).to.deep.equal(many);
    // The per-decision path (a policy with no chooseBatch) plays the same battles.
    const unbatched: PolicyAgent = { kind: 'policy', choose: agent.choose };
    expect(match(() => unbatched, random, 32)).to.deep.equal(one);
    expect(one.outcomes).to.have.length(12);
  });

  it('head to head and against built-in players: the same results batched and one at a time', () => {
    const [a, b] = models.map((m) => policyAgent(m)) as [PolicyAgent, PolicyAgent];
    const cases: Array<[AgentFor, AgentFor]> = [
      [() => a, () => b],
      [() => a, () => a],
      [() => a, builtinFor('heuristic', 7, 'opponent')],
      [builtinFor('maxpower', 7, 'player'), builtinFor('expert', 7, 'opponent')],
    ];
    for (const [p, o] of cases) expect(match(p, o, 6, 6)).to.deep.equal(match(p, o, 1, 6));
    // A deterministic player against itself, sides and seeds balanced, wins exactly half.
    expect(match(() => a, () => a, 6, 6).summary.winRate).to.equal(0.5);
  });

  it('leaks no tensor across a batched evaluation', () => {
    const agent = policyAgent(models[1]!);
    match(() => agent, builtinFor('random', 7, 'opponent'), 4, 2);
    const before = tf.memory().numTensors;
    match(() => agent, builtinFor('random', 7, 'opponent'), 6, 12);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('poke eval --concurrency: the same record for any value, apart from the timing; --help names it', async () => {
    const dir = await tempDir('showdown-concurrency');
    const run = async (concurrency: string) => {
      const r = await poke(['eval', 'heuristic', '--vs', 'random', '--battles', '6', '--concurrency', concurrency, '--json'], dir);
      expect(r.code, r.stderr).to.equal(0);
      const { seconds: _s, timestamp: _t, ...record } = JSON.parse(r.stdout) as Record<string, unknown>;
      return record;
    };
    const one = await run('1');
    const four = await run('4');
    expect(one).to.include({ concurrency: 1, battles: 6 });
    expect(four).to.include({ concurrency: 4 });
    expect({ ...four, concurrency: 1 }).to.deep.equal(one);
    const help = await poke(['eval', '--help'], dir);
    expect(help.stdout).to.match(/--concurrency <n>/);
    const bad = await poke(['eval', 'heuristic', '--concurrency', '0'], dir);
    expect(bad.code).to.equal(2);
  });
});
