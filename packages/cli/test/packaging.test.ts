import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packWorkspaces, runAsUser, type Outcome, type Packed } from '../../../test/pack.js';
import { makeTempDir } from '../../../test/temp-dirs.js';

async function ok(command: string, args: string[], cwd: string): Promise<Outcome> {
  const outcome = await runAsUser(command, args, cwd);
  expect(outcome.code, `${command} ${args.join(' ')}\n${outcome.stderr.slice(-4000)}`).to.equal(0);
  return outcome;
}

/** A plugin a user keeps in their project as TypeScript, typed by the installed @poke/core. */
const STAMP_PLUGIN = `import type { PokePlugin } from '@poke/core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export default function stamp(): PokePlugin {
  return {
    name: 'project:stamp',
    apply(trainer) {
      trainer.hooks.done.tapPromise('project:stamp', async (summary) => {
        writeFileSync(join(summary.runDir, 'stamp.json'), JSON.stringify({ status: summary.status, steps: summary.globalStep }));
      });
    },
  };
}
`;

/**
 * poke as a user gets it: every workspace packed with npm pack, and a project in
 * a folder outside the clone made from those tarballs alone. Nothing here
 * resolves into the clone: the project's node_modules holds the packages.
 */
describe('poke from its packed tarballs, in a project outside the clone', function () {
  this.timeout(15 * 60_000);
  let packed: Packed;
  let project: string;
  let firstRun: string;

  before(async () => {
    packed = await packWorkspaces();
    project = await makeTempDir('poke-test-project-');
  });

  it('npx runs poke init from the tarballs and writes a project that depends on them', async () => {
    const cli = packed.tarballs.get('@poke/cli')!;
    const core = packed.tarballs.get('@poke/core')!;
    // npx alone: before the project exists there is nothing else to run poke from.
    const init = await ok('npx', ['--yes', `--package=${cli}`, `--package=${core}`, 'poke', 'init', '--tarballs', packed.dir], project);
    expect(init.stderr).to.include('next: npm install, then npx poke train');
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, spec] of Object.entries(pkg.dependencies)) expect(spec, name).to.equal(`file:${packed.tarballs.get(name)}`);
  });

  it('npm install installs the project without warnings about install scripts', async () => {
    const install = await ok('npm', ['install', '--no-audit', '--no-fund'], project);
    expect(install.stderr).not.to.match(/install-scripts|ERESOLVE|peer dep/i);
    expect(existsSync(join(project, 'node_modules', '.bin', 'poke'))).to.equal(true);
    expect(existsSync(join(project, 'node_modules', '@poke', 'core', 'dist', 'index.js'))).to.equal(true);
  });

  it('npx poke train trains the built-in default that poke init wrote', async () => {
    const train = await ok('npx', ['poke', 'train', '--run-name', 'base', '--set', 'train.epochs=2'], project);
    expect(train.stderr).to.match(/run completed: .*runs\/base \(2 epochs/);
    const checkpoints = await readdir(join(project, 'runs', 'base', 'checkpoints'));
    expect(checkpoints).to.include('epoch0002-step00000052');
    expect(existsSync(join(project, 'runs', 'base', 'metrics.csv'))).to.equal(true);
    firstRun = join(project, 'runs', 'base');
  });

  it('type-checks a poke.config.ts that imports a local .ts plugin, and trains --init-from the first run with it', async () => {
    await mkdir(join(project, 'plugins'));
    await writeFile(join(project, 'plugins', 'stamp.ts'), STAMP_PLUGIN);
    const config = (await readFile(join(project, 'poke.config.ts'), 'utf8'))
      .replace("import { defineConfig } from '@poke/core';", "import { defineConfig } from '@poke/core';\nimport stamp from './plugins/stamp.ts';")
      .replace(/plugins: \[(.*)\],/, 'plugins: [$1, stamp()],');
    expect(config).to.include('stamp()');
    await writeFile(join(project, 'poke.config.ts'), config);
    // The project's tsconfig.json against the types the tarballs ship.
    await ok('npx', ['tsc', '-p', '.'], project);
    const tuned = await ok('npx', ['poke', 'train', '--run-name', 'tuned', '--init-from', firstRun, '--set', 'train.epochs=1'], project);
    expect(tuned.stderr).to.match(/run completed: .*runs\/tuned \(1 epoch,/);
    expect(JSON.parse(await readFile(join(project, 'runs', 'tuned', 'stamp.json'), 'utf8'))).to.deep.equal({ status: 'completed', steps: 26 });
    const info = JSON.parse(await readFile(join(project, 'runs', 'tuned', 'run.json'), 'utf8')) as { parent?: { runName?: string; checkpoint?: string } };
    expect(info.parent).to.include({ runName: 'base', checkpoint: 'epoch0002-step00000052' });
  });

  it('poke ckpt ls, poke eval and poke compare work on those runs', async () => {
    const ls = await ok('npx', ['poke', 'ckpt', 'ls', 'runs/base'], project);
    expect(ls.stdout).to.match(/epoch0002-step00000052\s+2\s+52\s.*best,latest/);
    const evaluation = await ok('npx', ['poke', 'eval', 'runs/base', '--vs', 'random', '--battles', '6'], project);
    expect(evaluation.stdout + evaluation.stderr).to.match(/win rate vs random: [\d.]+% .* over 6 battles/);
    const compare = await ok('npx', ['poke', 'compare', 'runs', '--json'], project);
    const rows = JSON.parse(compare.stdout) as Array<{ name: string; winRate: number | null; parent: { run: string | null; checkpoint: string } | null }>;
    expect(rows.map((r) => r.name).sort()).to.deep.equal(['base', 'tuned']);
    expect(rows.find((r) => r.name === 'base')!.winRate).to.be.a('number');
    expect(rows.find((r) => r.name === 'tuned')!.parent).to.include({ run: 'base', checkpoint: 'epoch0002-step00000052' });
  });
});
