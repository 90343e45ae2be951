import { expect } from 'chai';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke } from '../../cli/test/helpers.js';
import { checkpointTrainer, tempDir } from './helpers.js';


describe('poke ckpt', () => {
  it('ls, show and verify a run, with --json; verify exits 1 on a corrupt checkpoint', async () => {
    const dir = await tempDir('ckpt-cli');
    await (await checkpointTrainer(dir, { runName: 'r', train: { epochs: 2 } })).run();

    const ls = await poke(['ckpt', 'ls', 'runs/r'], dir);
    expect(ls.code, ls.stderr).to.equal(0);
    expect(ls.stdout.split('\n')[0]).to.match(/^id\s+epoch\s+step\s+val_loss\s+mark\s+size\s+reason$/);
    expect(ls.stdout).to.match(/epoch0002-step00000018\s+2\s+18\s+[\d.]+\s+(best,)?latest/);

    const json = JSON.parse((await poke(['ckpt', 'ls', 'runs/r', '--json'], dir)).stdout);
    expect(json.monitor).to.deep.equal({ name: 'val_loss', mode: 'min' });
    expect(json.checkpoints.map((c: any) => c.id)).to.deep.equal(['epoch0001-step00000009', 'epoch0002-step00000018']);
    expect(json.checkpoints.filter((c: any) => c.latest)).to.have.length(1);

    const show = await poke(['ckpt', 'show', 'runs/r', 'latest'], dir);
    expect(show.code, show.stderr).to.equal(0);
    expect(show.stdout).to.include('epoch0002-step00000018').and.match(/^  weights\.bin .* crc32c [0-9a-f]{8}$/m);
    const shown = JSON.parse((await poke(['ckpt', 'show', 'runs/r', 'epoch0001-step00000009', '--json'], dir)).stdout);
    expect(shown).to.include({ id: 'epoch0001-step00000009', step: 9 });
    const missing = await poke(['ckpt', 'show', 'runs/r', 'epoch0009-step00000099'], dir);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('no checkpoint "epoch0009-step00000099"');

    const ok = await poke(['ckpt', 'verify', 'runs/r'], dir);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('2 of 2 checkpoints verified');

    const state = join(dir, 'runs', 'r', 'checkpoints', 'epoch0001-step00000009', 'state.json');
    await writeFile(state, (await readFile(state, 'utf8')).replace('"globalStep": 9', '"globalStep": 8'));
    const bad = await poke(['ckpt', 'verify', 'runs/r', '--json'], dir);
    expect(bad.code).to.equal(1);
    const report = JSON.parse(bad.stdout);
    expect(report).to.include({ checked: 2, failed: 1 });
    expect(report.results[0].error).to.include('state.json');

    const none = await poke(['ckpt', 'ls', 'runs/nope'], dir);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include('has no checkpoints');
  });
});
