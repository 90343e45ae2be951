import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packWorkspaces, runAsUser, REPO_ROOT } from '../../../test/pack.js';

const BIN = join(REPO_ROOT, 'node_modules', '.bin');

/** Every workspace, by package name: read from disk so a new package is checked without editing this file. */
const WORKSPACES = readdirSync(join(REPO_ROOT, 'packages')).map(
  (folder) => (JSON.parse(readFileSync(join(REPO_ROOT, 'packages', folder, 'package.json'), 'utf8')) as { name: string }).name,
);

async function check(tool: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runAsUser(join(BIN, tool), args, REPO_ROOT, { NO_COLOR: '1' });
  return { code, output: stdout + stderr };
}

/**
 * The ecosystem's own checkers on the tarballs npm pack writes (what a registry
 * would serve): publint for package.json and the files it points at, and
 * arethetypeswrong for types that resolve as the code does. The packages are
 * ES modules only, so attw checks the esm-only profile (require() of them is
 * not supported on Node 20).
 */
describe('published packages pass publint and arethetypeswrong', function () {
  this.timeout(5 * 60_000);

  it('npm pack writes a tarball for every workspace, each with a README, its build and no tests', async () => {
    const { tarballs, files } = await packWorkspaces();
    expect([...tarballs.keys()].sort()).to.deep.equal([...WORKSPACES].sort());
    for (const [name, paths] of files) {
      expect(paths, name).to.include.members(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']);
      expect(paths.filter((path) => path.startsWith('test/') || path.endsWith('.tsbuildinfo')), name).to.deep.equal([]);
    }
  });

  for (const name of WORKSPACES) {
    it(`${name}: publint --strict and attw --profile esm-only report no problems`, async () => {
      const tarball = (await packWorkspaces()).tarballs.get(name)!;
      const lint = await check('publint', ['run', tarball, '--strict']);
      expect(lint.code, lint.output).to.equal(0);
      expect(lint.output).to.include('All good!');
      const types = await check('attw', [tarball, '--profile', 'esm-only', '--format', 'ascii']);
      expect(types.code, types.output).to.equal(0);
      expect(types.output).not.to.match(/❌|🐛|💀|🥴/);
    });
  }
});
