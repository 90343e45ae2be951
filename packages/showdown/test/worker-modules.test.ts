import { expect } from 'chai';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../core/test/helpers.js';
import { runRefusing } from '../../../test/refusing-import.js';

const PACKAGE = join(REPO_ROOT, 'packages', 'showdown');
/** tfjs, and the simulator's ESM build: @pkmn/randoms requires the CommonJS one, so that is the one copy to load. */
const HEAVY = /\/@tensorflow\/|\/@pkmn\/sim\/build\/esm\//;
const dist = (file: string) => JSON.stringify(pathToFileURL(join(PACKAGE, 'dist', file)).href);

// Every worker thread of generation and eval loads these modules: a thread that also loaded
// tfjs and a second simulator took about half a second longer to start.
describe('@poke/showdown worker threads', function () {
  this.timeout(60_000);

  it('load neither tfjs nor a second copy of the simulator, and play a battle', () => {
    const body = `
      for (const file of [${dist('batch.js')}, ${dist('match.js')}, ${dist('eval-messages.js')}]) await import(file);
      const { generateRange } = await import(${dist('generate-range.js')});
      const chunk = generateRange({ format: 'gen9randombattle', seed: 1, opponent: 'random' }, 0, 1);
      console.log(JSON.stringify({ battles: chunk.battles, labels: chunk.labels.length }));`;
    const child = runRefusing(HEAVY, body, PACKAGE);
    expect(child.ok, child.stderr).to.equal(true);
    const played = JSON.parse(child.last) as { battles: number; labels: number };
    expect(played.battles).to.equal(1);
    expect(played.labels).to.be.greaterThan(0);
  });

  it('are told apart by the refusal: the whole package loads tfjs, and an ESM import of the simulator is its second copy', () => {
    const whole = runRefusing(HEAVY, `await import('@poke/showdown');`, PACKAGE);
    expect(whole.ok).to.equal(false);
    expect(whole.stderr).to.match(/loaded \S+@tensorflow\//);
    const esm = runRefusing(HEAVY, `await import('@pkmn/sim');`, PACKAGE);
    expect(esm.ok).to.equal(false);
    expect(esm.stderr).to.match(/loaded \S+@pkmn\/sim\/build\/esm\//);
  });
});
