import { expect } from 'chai';
import { readdir, readFile, writeFile, mkdir, cp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { poke } from '../../cli/test/helpers.js';
import { UserError } from '@poke/core';
import checkpoint, { CheckpointManager } from '@poke/plugin-checkpoint';
import retention from '@poke/plugin-retention';
import type { RetentionOptions } from '@poke/plugin-retention';
import type { CheckpointOptions } from '@poke/plugin-checkpoint';
import { makeTrainer, smallConfig, tempDir } from '../../core/test/helpers.js';

async function run(dir: string, runName: string, epochs: number, ret: RetentionOptions, ckpt: CheckpointOptions = {}, resume?: string) {
  const lines: string[] = [];
  const logger = { info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(`warning: ${m}`) };
  const trainer = await makeTrainer(smallConfig({ runName, train: { epochs } }), dir, {
    plugins: [checkpoint(ckpt), retention(ret)],
    logger,
    ...(resume ? { resume } : {}),
  });
  await trainer.run();
  const ckpts = join(dir, 'runs', runName, 'checkpoints');
  const manifest = JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8'));
  const folders = (await readdir(ckpts)).filter((n) => n.startsWith('epoch')).sort();
  return { manifest, folders, lines, ckpts };
}


describe('plugin-retention', () => {
  it("5 saves with maxToKeep 2 leave at most 3 checkpoints counting the best, and the manifest matches the disk", async () => {
    const dir = await tempDir('ret');
    const { manifest, folders, lines } = await run(dir, 'r', 5, { maxToKeep: 2 });
    expect(folders.length).to.be.at.most(3);
    expect(manifest.entries.map((e: any) => e.id).sort()).to.deep.equal(folders);
    expect(folders).to.include(manifest.best);
    expect(folders).to.include(manifest.latest);
    expect(lines.filter((l) => l.startsWith('checkpoint: deleted')).every((l) => /\(older than the 2 most recent/.test(l))).to.equal(true);
    expect(manifest.deleting).to.equal(undefined);
  });

  it('never leaves the best link dangling, and resume from latest works after pruning', async () => {
    const dir = await tempDir('ret');
    const first = await run(dir, 'r', 3, { maxToKeep: 1, keepBest: false }, { every: { steps: 4 } });
    expect(existsSync(join(first.ckpts, 'best'))).to.equal(true);
    expect(existsSync(join(first.ckpts, 'latest'))).to.equal(true);
    const second = await run(dir, 'r', 4, { maxToKeep: 1, keepBest: false }, { every: { steps: 4 } }, 'latest');
    expect(second.folders).to.include(second.manifest.latest);
    expect(second.folders).to.include(second.manifest.best);
    expect(second.folders.length).to.be.at.most(2);
  });

  it('a resumed run keeps its top-k without over-retaining', async () => {
    const dir = await tempDir('ret');
    await run(dir, 'r', 3, { maxToKeep: 1, keepBest: 2 }, { every: { steps: 2 } });
    const { folders, manifest } = await run(dir, 'r', 5, { maxToKeep: 1, keepBest: 2 }, { every: { steps: 2 } }, 'latest');
    expect(folders.length).to.be.at.most(3);
    const validated = manifest.entries.filter((e: any) => e.value !== null);
    expect(validated.length).to.be.at.most(2 + 1);
  });

  it('finishes a deletion interrupted between the manifest write and the folder removal', async () => {
    const dir = await tempDir('ret');
    const { ckpts, manifest } = await run(dir, 'r', 3, { maxToKeep: 5 });
    // A crash after the manifest dropped the oldest entry but before its folder was removed.
    const [oldest, ...rest] = manifest.entries;
    await writeFile(join(ckpts, 'checkpoints.json'), JSON.stringify({ ...manifest, entries: rest, deleting: [oldest.id] }));
    const manager = await CheckpointManager.open(ckpts, { monitor: { name: 'val_loss', mode: 'min' }, repair: true });
    expect(manager.list().map((e) => e.id)).to.deep.equal(rest.map((e: any) => e.id));
    expect(existsSync(join(ckpts, oldest.id))).to.equal(false);
    expect(JSON.parse(await readFile(join(ckpts, 'checkpoints.json'), 'utf8')).deleting).to.equal(undefined);
  });

  it('rejects invalid options naming the plugin and the path', () => {
    expect(() => retention({ maxToKeep: 0 })).to.throw(UserError, 'plugin poke:retention: options.maxToKeep must be >= 1');
    expect(() => retention({ keepEvery: { epoch: 2 } } as never)).to.throw(UserError, 'plugin poke:retention: options.keepEvery');
  });

  it('poke ckpt prune applies the config policy to an existing run, with --dry-run', async () => {
    const dir = await tempDir('prune');
    await run(dir, 'r', 5, { maxToKeep: 50 });
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: ['@poke/plugin-checkpoint', ['@poke/plugin-retention', { maxToKeep: 1, keepBest: false }]] }));
    const before = (await readdir(join(dir, 'runs', 'r', 'checkpoints'))).filter((n) => n.startsWith('epoch'));
    expect(before).to.have.length(5);
    const dry = await poke(['ckpt', 'prune', 'runs/r', '--dry-run', '--json'], dir);
    expect(dry.code, dry.stderr).to.equal(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.dryRun).to.equal(true);
    const manifest = JSON.parse(await readFile(join(dir, 'runs', 'r', 'checkpoints', 'checkpoints.json'), 'utf8'));
    const protectedIds = new Set([manifest.best, manifest.latest]);
    expect(plan.deleted.map((d: any) => d.id).sort()).to.deep.equal(before.filter((id) => !protectedIds.has(id)).sort());
    expect((await readdir(join(dir, 'runs', 'r', 'checkpoints'))).filter((n) => n.startsWith('epoch'))).to.have.length(5);
    const real = await poke(['ckpt', 'prune', 'runs/r'], dir);
    expect(real.code, real.stderr).to.equal(0);
    expect(real.stdout).to.include(`${plan.deleted.length} deleted`);
    const after = (await readdir(join(dir, 'runs', 'r', 'checkpoints'))).filter((n) => n.startsWith('epoch')).sort();
    expect(after).to.deep.equal([...protectedIds].sort());
    const help = await poke(['ckpt', '--help'], dir);
    for (const sub of ['ls', 'show', 'verify', 'prune']) expect(help.stdout).to.include(sub);
  });

  it("poke ckpt prune without a config file applies the policy the run recorded in its config.json", async () => {
    const dir = await tempDir('prune');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({
      runName: 'r',
      data: { source: 'synthetic', samples: 300, features: 6, actions: 4 },
      model: { hiddenSizes: [8] },
      train: { epochs: 3, backend: 'cpu' },
      plugins: ['@poke/plugin-checkpoint', ['@poke/plugin-retention', { maxToKeep: 1, keepBest: false }]],
    }));
    const train = await poke(['train', '--no-progress'], dir);
    expect(train.code, train.stderr).to.equal(0);
    await rm(join(dir, 'poke.config.json'));
    const recorded = JSON.parse(await readFile(join(dir, 'runs', 'r', 'config.json'), 'utf8'));
    expect(recorded.plugins[1]).to.deep.equal(['@poke/plugin-retention', { maxToKeep: 1, keepBest: false }]);
    const dry = await poke(['ckpt', 'prune', 'runs/r', '--dry-run'], dir);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include(`retention policy from ${join('runs', 'r', 'config.json')}`).and.include('0 would be deleted, 1 kept');
    // A run whose config did not enable retention is refused, naming the file.
    recorded.plugins = ['@poke/plugin-checkpoint'];
    await writeFile(join(dir, 'runs', 'r', 'config.json'), JSON.stringify(recorded));
    const refused = await poke(['ckpt', 'prune', 'runs/r'], dir);
    expect(refused.code).to.equal(2);
    expect(refused.stderr.trim()).to.match(/^poke: runs\/r\/config\.json does not enable poke:retention/);
  });

  it('poke ckpt prune without a retention plugin in the config says so', async () => {
    const dir = await tempDir('prune');
    await run(dir, 'r', 1, { maxToKeep: 5 });
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: ['@poke/plugin-checkpoint'] }));
    const result = await poke(['ckpt', 'prune', 'runs/r'], dir);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.match(/^poke: .*poke\.config\.json does not enable poke:retention/);
  });
});
