import { expect } from 'chai';
import fc from 'fast-check';
import { buildPolicy, selectBackend } from '@poke/core';
import { ACTION_COUNT, BattleSession, acceptable, FEATURE_SIZE, batchedChooser, encode, expertAction, needsDecision, parseFrame, parseRequest, playBattle, policyAgent } from '@poke/showdown';
import type { BatchStats, Chooser, PolicyAgent, SimRequest } from '@poke/showdown';

/** A finished battle as p1 received it (its `|request|` lines after the lines they follow, as servers send them). */
function playerLog(seed: number): { lines: string[]; winner: string | null } {
  const battle = playBattle({ format: 'gen9randombattle', seed, p1: { kind: 'expert' }, p2: { kind: 'random', seed }, keepLog: true });
  return { lines: battle.playerLogs!.p1.split('\n').filter(Boolean), winner: battle.winner };
}

/** The log cut into messages the way a server sends them: each request alone, the lines between together. */
function frames(lines: readonly string[]): string[][] {
  const out: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('|request|')) out.push([line], []);
    else out.at(-1)!.push(line);
  }
  return out.filter((f) => f.length);
}

function decisionRequests(lines: readonly string[]): number {
  return lines.filter((l) => l.startsWith('|request|') && needsDecision(JSON.parse(l.slice(9)) as SimRequest)).length;
}

function session(sent: string[]): BattleSession {
  return new BattleSession('battle-x', 'poke-p1', (view, mask) => expertAction(view, mask), (m) => sent.push(m));
}

/** Lines a broken or hostile stream could carry: each must be skipped, not followed. */
const malformedLine = fc.oneof(
  fc.string().map((s) => `|request|{${s}`),
  fc.string().map((s) => `|-damage|\u0001${s}`),
  fc.constant('|request|{"side":{"id":"p1","pokemon":[{"ident":1}]}}'),
  fc.constant('|request|[]'),
);

describe('@poke/showdown play: the battle session and the protocol parser', function () {
  this.timeout(300_000);
  const battles = [11, 12, 13].map(playerLog);

  it('answers every decision request of a real battle exactly once, in order, and reads the result', () => {
    for (const { lines, winner } of battles) {
      for (const split of [frames(lines), [lines]]) {
        const sent: string[] = [];
        const s = session(sent);
        for (const f of split) s.receive(f);
        expect(sent.length).to.equal(decisionRequests(lines));
        for (const m of sent) expect(m).to.match(/^\/choose (move \d( terastallize)?|switch \d)(\|\d+)?$/);
        expect(s.ended?.result).to.equal(winner === 'p1' ? 'win' : winner === 'p2' ? 'loss' : 'tie');
        expect(s.malformed).to.equal(0);
        expect(s.opponent()).to.equal('poke-p2');
      }
    }
  });

  it('a refused choice is answered with another legal one and counted', () => {
    const { lines } = battles[0]!;
    const first = lines.findIndex((l) => l.startsWith('|request|') && needsDecision(JSON.parse(l.slice(9)) as SimRequest));
    const sent: string[] = [];
    const s = session(sent);
    s.receive(lines.slice(0, first + 1));
    expect(sent).to.have.length(1);
    s.receive(['|error|[Invalid choice] Can\'t move: that move is disabled']);
    expect(s.rejected).to.equal(1);
    expect(sent).to.have.length(2);
    expect(sent[1]).to.not.equal(sent[0]);
    expect(sent[1]).to.match(/^\/choose (move|switch) \d/);
    // An unavailable choice: the server sends the request again, and it is answered at once.
    s.receive(['|error|[Unavailable choice] Can\'t switch: The active Pokémon is trapped']);
    s.receive([lines[first]!]);
    expect(s.rejected).to.equal(2);
    expect(sent).to.have.length(3);
  });

  it('fuzz: no message, however malformed, throws; broken lines are skipped and counted, the battle still followed', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.string().map((s) => `>battle-x\n|${s}`), fc.constantFrom('|request|', '|win|', '|player|p9|x', '|turn|NaN', '|switch|', '|split|p1'))), (messages) => {
        const s = session([]);
        for (const m of messages) s.receive(parseFrame(m).lines);
        for (const m of messages) expect(() => parseRequest(m)).to.not.throw();
      }),
      { numRuns: 300 },
    );
    const { lines, winner } = battles[1]!;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(lines.length - 1), malformedLine), { maxLength: 20 }), (inserts) => {
        const noisy = [...lines];
        for (const [at, line] of [...inserts].sort((a, b) => b[0] - a[0])) noisy.splice(at, 0, line);
        const sent: string[] = [];
        const s = session(sent);
        for (const f of frames(noisy)) s.receive(f);
        expect(s.malformed).to.equal(inserts.length);
        expect(s.ended?.result).to.equal(winner === 'p1' ? 'win' : 'loss');
        expect(sent.length).to.equal(decisionRequests(lines));
      }),
      { numRuns: 40 },
    );
  });

  it('a policy answers the decisions of battles played at once in one forward pass each turn, choosing what it chooses one at a time', async () => {
    await selectBackend('cpu');
    const model = buildPolicy({ featureSize: FEATURE_SIZE, actionCount: ACTION_COUNT, hiddenSizes: [32], activation: 'relu', dropout: 0, seed: 3 });
    const agent = policyAgent(model);
    let rows = 0;
    const counted: PolicyAgent = { ...agent, chooseBatch: (features, masks) => ((rows += masks.length), agent.chooseBatch!(features, masks)) };
    // Each battle's messages in order; in each round every battle gets its next message, all in one turn of the event loop.
    const play = async (choose: Chooser) => {
      const logs = battles.map(({ lines }) => frames(lines));
      const sent = logs.map(() => [] as string[]);
      const sessions = logs.map((_, b) => new BattleSession(`battle-${b}`, 'poke-p1', choose, (m) => sent[b]!.push(m)));
      for (let round = 0; round < Math.max(...logs.map((l) => l.length)); round++) {
        logs.forEach((log, b) => log[round] && sessions[b]!.receive(log[round]!));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { sent, sessions };
    };
    const one = await play((view, mask) => agent.choose(encode(view), mask));
    const stats: BatchStats = { passes: 0, decisions: 0 };
    const batched = await play(batchedChooser(counted, stats));
    expect(batched.sent).to.deep.equal(one.sent);
    const decisions = battles.reduce((n, { lines }) => n + decisionRequests(lines), 0);
    expect(stats.decisions).to.equal(decisions);
    expect(rows).to.equal(decisions);
    // Three battles at once: while all three are running, each pass answers all of them.
    expect(stats.passes).to.be.lessThan(decisions / 2);
    expect(batched.sessions.map((s) => s.ended?.result)).to.deep.equal(one.sessions.map((s) => s.ended?.result));
    model.dispose();
  });

  it('a forward pass that fails still answers the waiting decision with a legal action, counted as malformed', async () => {
    const { lines } = battles[0]!;
    const first = lines.findIndex((l) => l.startsWith('|request|') && needsDecision(JSON.parse(l.slice(9)) as SimRequest));
    const failing: PolicyAgent = { kind: 'policy', choose: () => 0, chooseBatch: () => { throw new Error('the forward pass failed'); } };
    const sent: string[] = [];
    const s = new BattleSession('battle-x', 'poke-p1', batchedChooser(failing), (m) => sent.push(m));
    s.receive(lines.slice(0, first + 1));
    expect(sent).to.have.length(0);
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    expect(sent).to.have.length(1);
    expect(sent[0]).to.match(/^\/choose (move|switch) \d/);
    expect(s.malformed).to.equal(1);
  });

  it('--accept takes challenges from the users listed (any, with none listed) in the formats --format takes, and no other', () => {
    expect(acceptable('Some Bot', 'gen9randombattle')).to.equal(true);
    expect(acceptable('Some Bot', 'gen9monotyperandombattle', ['somebot', 'other'])).to.equal(true);
    expect(acceptable('Stranger', 'gen9randombattle', ['somebot']), 'not listed').to.equal(false);
    // Named like random battles, but not ones the encoder (gen 9 singles) or the simulator can play.
    for (const format of ['gen8randombattle', 'gen9randomdoublesbattle', 'gen9multirandombattle', 'gen9babyrandombattle', 'gen9ou']) {
      expect(acceptable('Some Bot', format), format).to.equal(false);
    }
  });
});
