import { expect } from 'chai';
import { join } from 'node:path';
import { readShardIndex, readShards } from '@poke/core';
import { tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';

describe('poke data generate --encoding', function () {
  this.timeout(5 * 60_000);

  it('float16 and uint8 store the same battles; flags and counts read back exactly, fractions within a step', async () => {
    const dir = await tempDir('gen-encoding');
    const generate = (encoding: string) => poke(['data', 'generate', '--battles', '4', '--seed', '2', '--workers', '1', '--encoding', encoding, '--out', encoding], dir);
    for (const encoding of ['float32', 'float16', 'uint8']) {
      const result = await generate(encoding);
      expect(result.code, result.stderr).to.equal(0);
    }
    const plain = await readShards(join(dir, 'float32'));
    for (const encoding of ['float16', 'uint8']) {
      const index = await readShardIndex(join(dir, encoding));
      expect(index.encoding?.type).to.equal(encoding);
      const read = await readShards(join(dir, encoding));
      expect(Array.from(read.labels)).to.deep.equal(Array.from(plain.labels));
      // Flags and counts come back exactly; fractions (HP, scaled boosts) within the encoding's step.
      const enc = index.encoding!;
      for (let i = 0; i < plain.features.length; i++) {
        const want = plain.features[i]!;
        const scale = enc.type === 'uint8' ? enc.scale[i % plain.featureSize]! : undefined;
        const exact = Number.isInteger(want) && (scale === undefined || scale === 1);
        const tolerance = exact ? 0 : scale !== undefined ? scale / 2 + 1e-6 : Math.abs(want) * 2 ** -11;
        expect(Math.abs(read.features[i]! - want), `feature ${i}`).to.be.at.most(tolerance);
      }
    }
  });

  it('refuses an unknown encoding before playing', async () => {
    const result = await poke(['data', 'generate', '--battles', '4', '--encoding', 'int4', '--out', 'x'], await tempDir('gen-encoding-bad'));
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('--encoding must be one of float32, float16, uint8, got "int4"');
  });
});
