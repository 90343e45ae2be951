import { expect } from 'chai';
import { Monitor, inferMode, isBetter, betterFirst, createHooksRegistry, describeDiskError } from '@poke/core';

describe('Monitor', () => {
  it('reads the direction from the name, and an explicit mode wins', () => {
    expect(new Monitor('val_loss').mode).to.equal('min');
    expect(new Monitor('val_accuracy').mode).to.equal('max');
    expect(new Monitor('win_rate').mode).to.equal('max');
    expect(new Monitor('val_accuracy', 'min').mode).to.equal('min');
    // A name that states no direction is ranked as a loss.
    expect(new Monitor('lr').mode).to.equal('min');
  });

  it('infers a direction only where the name states one', () => {
    expect(inferMode('train_loss')).to.equal('min');
    expect(inferMode('accuracy')).to.equal('max');
    expect(inferMode('lr')).to.equal(undefined);
    expect(inferMode('samples_per_sec')).to.equal(undefined);
  });

  it('keeps the earlier value on a tie', () => {
    expect(new Monitor('val_loss').isBetter(1, 2)).to.equal(true);
    expect(new Monitor('val_loss').isBetter(2, 2)).to.equal(false);
    expect(isBetter(3, 2, 'max')).to.equal(true);
    expect(isBetter(2, 2, 'max')).to.equal(false);
  });

  it('sorts the better value first', () => {
    expect([2, 1, 3].sort(betterFirst('min'))).to.deep.equal([1, 2, 3]);
    const accuracy = new Monitor('val_accuracy');
    expect([2, 1, 3].sort((a, b) => accuracy.compare(a, b))).to.deep.equal([3, 2, 1]);
  });

  it('serializes as { name, mode }', () => {
    expect(JSON.parse(JSON.stringify(new Monitor('val_accuracy')))).to.deep.equal({ name: 'val_accuracy', mode: 'max' });
  });
});

describe('createHooksRegistry', () => {
  it('creates the hooks of an owner once, on first use, and apart from other owners', () => {
    let created = 0;
    const registry = createHooksRegistry<object, { readonly n: number }>(() => ({ n: ++created }));
    const a = {};
    const b = {};
    expect(registry.get(a)).to.equal(registry.get(a));
    expect(registry.get(b)).not.to.equal(registry.get(a));
    expect(created).to.equal(2);
  });
});

describe('describeDiskError', () => {
  it('words a full, over-quota or read-only disk, and nothing else', () => {
    const error = (code: string) => Object.assign(new Error(code), { code });
    expect(describeDiskError(error('ENOSPC'))).to.equal('no space left on device (ENOSPC)');
    expect(describeDiskError(error('EROFS'))).to.equal('read-only file system (EROFS)');
    expect(describeDiskError(error('EACCES'))).to.equal(undefined);
    expect(describeDiskError(error('toString'))).to.equal(undefined);
    expect(describeDiskError(undefined)).to.equal(undefined);
  });
});
