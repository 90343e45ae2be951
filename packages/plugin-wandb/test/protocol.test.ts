import { expect } from 'chai';
import { reconcile, wandbJson } from '@poke/plugin-wandb';
import type { SentLine } from '@poke/plugin-wandb';
import { parseWandbJson } from './fixtures/wandb-server.js';

describe("plugin-wandb: W&B's JSON dialect", () => {
  it('writes NaN and ±Infinity as bare tokens, whether a number or the name the spool keeps, and nothing else changes', () => {
    const text = wandbJson({ a: NaN, b: Infinity, c: -Infinity, d: 'NaN', e: '-Infinity', f: 1.5, g: 'NaN is a word', h: { runtime: 3 } });
    expect(text).to.equal('{"a":NaN,"b":Infinity,"c":-Infinity,"d":NaN,"e":-Infinity,"f":1.5,"g":"NaN is a word","h":{"runtime":3}}');
    const back = parseWandbJson(text);
    expect(back.a).to.be.NaN;
    expect([back.b, back.c, back.f, back.g]).to.deep.equal([Infinity, -Infinity, 1.5, 'NaN is a word']);
  });
});

describe('plugin-wandb: reconciling with what the server holds', () => {
  // what this run sent: steps 10, 20, 30, 40, each line ending at a spool offset
  const sent: SentLine[] = [10, 20, 30, 40].map((step, i) => ({ step, end: 100 * (i + 1) }));
  const local = { offset: 450, step: 40, lines: 4, events: 3, logs: 5 };
  const server = (lines: number, tailStep: number | undefined) => ({ lines, tailStep, events: 3, logs: 5, tags: [] });

  it('agrees when the server holds what was sent', () => {
    expect(reconcile(local, sent, server(4, 40))).to.deep.equal({ kind: 'agree' });
    expect(reconcile({ offset: 0, step: -1, lines: 0, events: 0, logs: 0 }, [], undefined)).to.deep.equal({ kind: 'agree' });
  });

  it('goes back to the server’s count when it lost lines, and to the start when it lost the run', () => {
    expect(reconcile(local, sent, server(2, 20))).to.deep.equal({ kind: 'behind', missing: 2, delivered: { offset: 200, step: 20, lines: 2, events: 3, logs: 5 } });
    expect(reconcile(local, sent, undefined)).to.deep.equal({ kind: 'behind', missing: 4, delivered: { offset: 0, step: -1, lines: 0, events: 0, logs: 0 } });
  });

  it('continues after the server’s last step when it holds more (another writer, or state.json lost)', () => {
    expect(reconcile(local, sent, { ...server(6, 60), events: 7 })).to.deep.equal({ kind: 'ahead', extra: 2, delivered: { ...local, step: 60, lines: 6, events: 7 } });
    expect(reconcile({ offset: 0, step: -1, lines: 0, events: 0, logs: 0 }, [], server(3, 30))).to.deep.include({ kind: 'ahead', extra: 3 });
  });

  it('refuses a server whose history is not the one sent', () => {
    expect(reconcile(local, sent, server(2, 25))).to.deep.include({ kind: 'refuse' });
    expect(reconcile(local, sent, server(4, 41))).to.deep.include({ kind: 'refuse' });
    expect(reconcile(local, sent, server(6, 35))).to.deep.include({ kind: 'refuse' });
  });
});
