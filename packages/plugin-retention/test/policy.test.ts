import { expect } from 'chai';
import { selectForDeletion, topK } from '@poke/plugin-retention';
import type { RetentionEntry, RetentionPolicy } from '@poke/plugin-retention';

/** Entry i: end-of-epoch save i (epoch i, step 10·i) with the given monitored value. */
function saves(values: Array<number | null>, reason = 'validation'): RetentionEntry[] {
  return values.map((value, i) => ({ id: `e${i + 1}`, epoch: i + 1, step: 10 * (i + 1), value, bytes: 100, reason }));
}

function policy(p: Partial<RetentionPolicy> & { best?: string; latest?: string; keep?: string[] }): RetentionPolicy {
  const protectedIds = new Set([...(p.keep ?? []), ...(p.best ? [p.best] : []), ...(p.latest ? [p.latest] : [])]);
  return { maxToKeep: 5, keepBest: 1, mode: 'min', ...p, protected: p.protected ?? protectedIds };
}

const kept = (entries: RetentionEntry[], p: RetentionPolicy) => {
  const gone = new Set(selectForDeletion(entries, p).map((d) => d.id));
  return entries.filter((e) => !gone.has(e.id)).map((e) => e.id);
};

describe('selectForDeletion', () => {
  const cases: Array<[string, RetentionEntry[], RetentionPolicy, string[]]> = [
    ["the source's case: 5 saves, maxToKeep 2 → 2 recent + best", saves([0.5, 0.2, 0.4, 0.6, 0.7]), policy({ maxToKeep: 2, best: 'e2', latest: 'e5' }), ['e2', 'e4', 'e5']],
    ['an improving metric: the best is among the recent', saves([0.5, 0.4, 0.3, 0.2, 0.1]), policy({ maxToKeep: 2, best: 'e5', latest: 'e5' }), ['e4', 'e5']],
    ['a worsening metric: the first stays as best', saves([0.1, 0.2, 0.3, 0.4, 0.5]), policy({ maxToKeep: 2, best: 'e1', latest: 'e5' }), ['e1', 'e4', 'e5']],
    ['ties: the earlier checkpoint is the best one kept', saves([0.3, 0.1, 0.1, 0.5, 0.6]), policy({ maxToKeep: 1, best: 'e2', latest: 'e5' }), ['e2', 'e5']],
    ['top-k: keepBest 2 keeps the two best', saves([0.3, 0.1, 0.2, 0.5, 0.6, 0.7]), policy({ maxToKeep: 1, keepBest: 2, best: 'e2', latest: 'e6' }), ['e2', 'e3', 'e6']],
    ['top-k ties rank the earlier higher', saves([0.2, 0.1, 0.2, 0.2, 0.9]), policy({ maxToKeep: 1, keepBest: 2, best: 'e2', latest: 'e5' }), ['e1', 'e2', 'e5']],
    ['maxToKeep 1 with a best that is not last keeps 2 (documented)', saves([0.1, 0.5, 0.6]), policy({ maxToKeep: 1, best: 'e1', latest: 'e3' }), ['e1', 'e3']],
    ['keepBest false still never deletes the current best', saves([0.1, 0.5, 0.6]), policy({ maxToKeep: 1, keepBest: 0, best: 'e1', latest: 'e3' }), ['e1', 'e3']],
    ['saves between validations (value null) never count as best', [...saves([0.4]), { id: 's1', epoch: 1, step: 15, value: null, bytes: 100, reason: 'steps' }, ...saves([null, null]).map((e, i) => ({ ...e, id: `s${i + 2}`, step: 20 + 10 * i, reason: 'steps' }))], policy({ maxToKeep: 1, best: 'e1', latest: 's3' }), ['e1', 's3']],
    ['keepEvery epochs keeps end-of-epoch milestones forever', saves([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), policy({ maxToKeep: 1, keepBest: 0, keepEvery: { epochs: 2 }, best: 'e6', latest: 'e6' }), ['e2', 'e4', 'e6']],
    ['keepEvery steps', saves([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), policy({ maxToKeep: 1, keepBest: 0, keepEvery: { steps: 30 }, best: 'e6', latest: 'e6' }), ['e3', 'e6']],
    ['keep lists ids never to delete', saves([0.5, 0.4, 0.3, 0.2]), policy({ maxToKeep: 1, keep: ['e1'], best: 'e4', latest: 'e4' }), ['e1', 'e4']],
    ['a pinned checkpoint (being resumed from) is never deleted', saves([0.5, 0.4, 0.3, 0.2]), policy({ maxToKeep: 1, protected: new Set(['e2', 'e4']) }), ['e2', 'e4']],
    ['the latest is never deleted, even when it is not among the recent by step', saves([0.5, 0.4, 0.3]), policy({ maxToKeep: 1, keepBest: 0, latest: 'e1', best: 'e1' }), ['e1', 'e3']],
    ['the byte cap deletes the oldest unprotected first', saves([0.5, 0.6, 0.7, 0.8, 0.9]), policy({ maxToKeep: 5, maxTotalBytes: 300, best: 'e1', latest: 'e5' }), ['e1', 'e4', 'e5']],
    ['the byte cap deletes milestones last', saves([0.5, 0.6, 0.7, 0.8, 0.9]), policy({ maxToKeep: 5, keepEvery: { epochs: 2 }, maxTotalBytes: 300, best: 'e1', latest: 'e5' }), ['e1', 'e4', 'e5']],
    ['the byte cap never touches protected checkpoints', saves([0.5, 0.6]), policy({ maxToKeep: 5, maxTotalBytes: 10, best: 'e1', latest: 'e2' }), ['e1', 'e2']],
    ['max mode keeps the highest', saves([0.5, 0.9, 0.4, 0.3]), policy({ maxToKeep: 1, mode: 'max', best: 'e2', latest: 'e4' }), ['e2', 'e4']],
    ['fewer checkpoints than maxToKeep: nothing to do', saves([0.5, 0.4]), policy({ best: 'e2', latest: 'e2' }), ['e1', 'e2']],
  ];
  for (const [name, entries, p, expected] of cases) {
    it(name, () => {
      expect(kept(entries, p)).to.deep.equal(expected);
    });
  }

  it('a manifest restored after a resume keeps its top-k and never over-retains', () => {
    // Run 1 saved e1..e4; a resume starts a new process with no memory of earlier decisions.
    const p = policy({ maxToKeep: 1, keepBest: 2, best: 'e2', latest: 'e4' });
    const firstRun = saves([0.3, 0.1, 0.2, 0.4]);
    const afterFirst = firstRun.filter((e) => kept(firstRun, p).includes(e.id));
    expect(afterFirst.map((e) => e.id)).to.deep.equal(['e2', 'e3', 'e4']);
    const resumed = [...afterFirst, ...saves([9, 9, 9, 9, 0.5, 0.05]).slice(4).map((e, i) => ({ ...e, id: `r${i + 1}`, epoch: 5 + i, step: 50 + 10 * i }))];
    const p2 = policy({ maxToKeep: 1, keepBest: 2, best: 'r2', latest: 'r2' });
    expect(kept(resumed, p2)).to.deep.equal(['e2', 'r2']);
    expect(kept(resumed, p2)).to.have.length.at.most(2 + 1);
  });

  it('gives a reason for every deletion', () => {
    const deletions = selectForDeletion(saves([0.5, 0.2, 0.4, 0.6, 0.7]), policy({ maxToKeep: 2, best: 'e2', latest: 'e5' }));
    expect(deletions).to.deep.equal([
      { id: 'e1', reason: 'older than the 2 most recent and not among the 1 best' },
      { id: 'e3', reason: 'older than the 2 most recent and not among the 1 best' },
    ]);
  });

  it('topK ignores entries without a value', () => {
    expect(topK(saves([null, 0.3, null, 0.1]), 3, 'min').map((e) => e.id)).to.deep.equal(['e4', 'e2']);
  });
});
