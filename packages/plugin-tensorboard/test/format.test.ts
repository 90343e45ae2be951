import { expect } from 'chai';
import { maskedCrc32c, frameRecord, scanRecords } from '@poke/plugin-tensorboard';
import tensorboard from '@poke/plugin-tensorboard';
import { crc32c } from '../src/crc32c.js';

describe('plugin-tensorboard: format', () => {
  it('CRC32C matches the standard test vectors (RFC 3720, B.4) and TensorFlow masks it', () => {
    expect(crc32c(Buffer.from('123456789'))).to.equal(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).to.equal(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).to.equal(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).to.equal(0x46dd794e);
    // mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8, as tensorflow/core/lib/hash/crc32c.h
    const crc = 0xe3069283;
    expect(maskedCrc32c(Buffer.from('123456789'))).to.equal((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });

  it('frames records as TFRecord and stops reading at a record a crash cut short', () => {
    const a = frameRecord(Buffer.from('first'));
    const b = frameRecord(Buffer.from('second record'));
    expect(a.length).to.equal(8 + 4 + 5 + 4);
    expect(a.readBigUInt64LE(0)).to.equal(5n);
    const whole = Buffer.concat([a, b]);
    expect(scanRecords(whole).records.map(String)).to.deep.equal(['first', 'second record']);
    for (let cut = a.length; cut < whole.length; cut++) {
      const scanned = scanRecords(whole.subarray(0, cut));
      expect(scanned.records.map(String), `cut at ${cut}`).to.deep.equal(['first']);
      expect(scanned.validBytes).to.equal(a.length);
    }
    const damaged = Buffer.from(whole);
    damaged[a.length + 14]! ^= 1;
    expect(scanRecords(damaged).records.map(String)).to.deep.equal(['first']);
  });

  it('option errors name the plugin and the option', () => {
    expect(() => tensorboard({ scalarType: 'half' as never })).to.throw(/plugin poke:tensorboard: options\.scalarType/);
    expect(() => tensorboard({ dir: '../x' })).to.throw(/plugin poke:tensorboard: options\.dir/);
    expect(() => tensorboard({ histogramsEvery: -1 })).to.throw(/options\.histogramsEvery must be >= 0/);
    expect(() => tensorboard({ dirr: 'x' } as never)).to.throw(/plugin poke:tensorboard/);
    expect(tensorboard().name).to.equal('poke:tensorboard');
  });
});
