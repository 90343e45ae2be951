import { expect } from 'chai';
import { readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { poke, startPoke, tempDir, holdAt, FAST, REPO_ROOT } from './helpers.js';

const EXAMPLE_PLUGIN = join(REPO_ROOT, 'examples', 'plugins', 'jsonl-logger.ts');

async function runInfo(dir: string, name: string) {
  return JSON.parse(await readFile(join(dir, 'runs', name, 'run.json'), 'utf8'));
}

/** A user's mistake: exit 2, one line on stderr, no stack trace. */
function expectUserError(result: { code: number | null; stderr: string }, text: string | RegExp) {
  const lines = result.stderr.trim().split('\n');
  const last = lines.at(-1)!;
  expect(result.code, result.stderr).to.equal(2);
  expect(result.stderr).to.not.match(/^\s+at /m);
  if (typeof text === 'string') expect(last).to.include(text);
  else expect(last).to.match(text);
  expect(last.startsWith('poke: ')).to.equal(true);
}

describe('poke CLI', () => {
  it('--version and --help', async () => {
    const dir = await tempDir();
    const version = await poke(['--version'], dir);
    expect(version.code).to.equal(0);
    expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
    const help = await poke(['--help'], dir);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('train').and.include('init');
    const trainHelp = await poke(['train', '--help'], dir);
    for (const flag of ['--config', '--set', '--plugin', '--no-plugin <name>', '--run-name', '--resume', '--backend']) expect(trainHelp.stdout).to.include(flag);
  });

  it('runs the built-in default with no config at all: generated battles, cached, resumable', async function () {
    // Generating 300 battles takes ~10-30 s on 2 cores; the resume reuses them.
    this.timeout(300_000);
    const dir = await tempDir('default');
    const result = await poke(['train', '--run-name', 'default'], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include('no poke.config.* found').and.include('built-in default (300 expert battles from @poke/showdown');
    expect(result.stderr).to.match(/backend: (wasm|tensorflow)/);
    expect(result.stderr).to.match(/^showdown: generating battles 300\/300$/m);
    expect(result.stderr).to.match(/^showdown: 300 battles, \d+ decisions in [\d.]+ s, cached in .*runs\/\.cache\/showdown\/[0-9a-f]{16}$/m);
    // Not a TTY: one plain line per epoch.
    expect(result.stderr.match(/^epoch \d+\/5 /gm)).to.have.length(5);
    const info = await runInfo(dir, 'default');
    expect(info.status).to.equal('completed');
    const config = JSON.parse(await readFile(join(dir, 'runs', 'default', 'config.json'), 'utf8'));
    expect(config.data).to.include({ source: 'showdown', battles: 300 });
    // The default run is resumable and comparable: checkpoints (pruned) and metrics.csv.
    expect(result.stderr).to.include('plugins: showdown, checkpoint, retention, csv');
    expect(config.plugins).to.deep.equal(['@poke/showdown', '@poke/plugin-checkpoint', '@poke/plugin-retention', '@poke/plugin-csv']);
    const manifest = JSON.parse(await readFile(join(dir, 'runs', 'default', 'checkpoints', 'checkpoints.json'), 'utf8'));
    // Generation is seeded: the same 7,275 decisions, so 26 steps of 256 an epoch, on every machine.
    expect(manifest.latest).to.equal('epoch0005-step00000130');
    expect(existsSync(join(dir, 'runs', 'default', 'metrics.csv'))).to.equal(true);
    const resumed = await poke(['train', '--run-name', 'default', '--resume', '--set', 'train.epochs=6'], dir);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.match(/^showdown: reusing 7275 cached decisions/m);
    expect(resumed.stderr).to.not.include('generating battles');
    expect(resumed.stderr).to.include('resumed at epoch 6, step 130');
  });

  it('init writes a starter config that poke train accepts, and does not overwrite it', async () => {
    const dir = await tempDir('init');
    const init = await poke(['init'], dir);
    expect(init.code, init.stderr).to.equal(0);
    const text = await readFile(join(dir, 'poke.config.ts'), 'utf8');
    expect(text).to.include('defineConfig');
    const again = await poke(['init'], dir);
    expectUserError(again, 'already exists (pass --force to overwrite it)');
    const train = await poke(['train', ...FAST, '--set', 'train.epochs=1', '--run-name', 'from-init'], dir);
    expect(train.code, train.stderr).to.equal(0);
    expect(train.stderr).to.include(`config: ${join(dir, 'poke.config.ts')}`);
  });

  it('--plugin adds a plugin by path with JSON options, --no-plugin removes one', async () => {
    const dir = await tempDir('plugins');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ plugins: [[EXAMPLE_PLUGIN, { file: 'from-config.jsonl' }]] }));
    const added = await poke(['train', ...FAST, '--set', 'train.epochs=1', '-n', 'a', '--plugin', `${EXAMPLE_PLUGIN}={"file":"extra.jsonl"}`], dir);
    expect(added.code, added.stderr).to.equal(0);
    expect(existsSync(join(dir, 'runs', 'a', 'from-config.jsonl'))).to.equal(true);
    expect(existsSync(join(dir, 'runs', 'a', 'extra.jsonl'))).to.equal(true);
    const removed = await poke(['train', ...FAST, '--set', 'train.epochs=1', '-n', 'b', '--no-plugin', 'example:jsonl-logger'], dir);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(await readdir(join(dir, 'runs', 'b'))).to.not.include('from-config.jsonl');
  });

  describe('bad input: one clear line and exit 2', () => {
    const cases: Array<[string, Record<string, string>, string[], string | RegExp]> = [
      ['unknown config key', { 'poke.config.json': '{"train": {"epcohs": 2}}' }, [], 'unknown key "epcohs" in train (did you mean "epochs"?)'],
      ['wrong type', { 'poke.config.json': '{"train": {"learningRate": "fast"}}' }, [], 'train.learningRate must be number, got string "fast"'],
      ['syntax error in poke.config.ts', { 'poke.config.ts': 'export default {\n  train: {\n    epochs: 2\n  ]\n};\n' }, [], /poke\.config\.ts:4:\d+: syntax error/],
      ['plugin not found', { 'poke.config.json': '{"plugins": ["wandbb"]}' }, [], 'plugin "wandbb" not found: looked for @poke/plugin-wandbb, poke-plugin-wandbb, wandbb'],
      ['plugin options invalid', { 'poke.config.json': JSON.stringify({ plugins: [[EXAMPLE_PLUGIN, { file: '../escape' }]] }) }, [], 'plugin example:jsonl-logger: options.file must match pattern'],
      ['--set to an unknown key', {}, ['--set', 'model.layers=3'], '--set model.layers=3: unknown key "layers" in model'],
      ['a plugin whose apply throws', { 'bad.mjs': "export default () => ({ name: 'acme:bad', apply() { throw new Error('no token'); } });", 'poke.config.json': '{"plugins": ["./bad.mjs"]}' }, [], 'plugin acme:bad failed in apply: no token'],
      ['an unknown flag', {}, ['--epochs', '3'], /unknown option '--epochs'/],
      ['an explicit config file that does not exist', {}, ['--config', 'nope.ts'], 'config file not found'],
      ['bad JSON after --plugin NAME=', {}, ['--plugin', 'csv={oops'], '--plugin csv={oops: options after "=" must be JSON'],
    ];
    for (const [what, files, args, message] of cases) {
      it(what, async () => {
        const dir = await tempDir('bad');
        for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
        const result = await poke(['train', ...FAST, ...args], dir);
        if (what === 'an unknown flag') {
          expect(result.code).to.equal(2);
          expect(result.stderr).to.match(message as RegExp);
          return;
        }
        expectUserError(result, message);
        expect(existsSync(join(dir, 'runs'))).to.equal(false);
      });
    }
  });

  it('a bug in a plugin exits 1 with a stack trace and marks the run failed', async () => {
    const dir = await tempDir('bug');
    await writeFile(
      join(dir, 'buggy.mjs'),
      "export default () => ({ name: 'acme:buggy', apply(t) { t.hooks.afterStep.tap('acme:buggy', (s) => { if (s.globalStep === 2) null.x; }); } });",
    );
    const result = await poke(['train', ...FAST, '-n', 'bug', '--plugin', './buggy.mjs'], dir);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('plugin acme:buggy failed in afterStep: Cannot read properties of null');
    expect(result.stderr).to.match(/^\s+at .*buggy\.mjs/m);
    expect((await runInfo(dir, 'bug')).status).to.equal('failed');
  });

  it('SIGINT finishes the step, fires done with interrupted and exits 130', async () => {
    const dir = await tempDir('sigint');
    await writeFile(
      join(dir, 'done-spy.mjs'),
      "import { writeFileSync } from 'node:fs'; export default () => ({ name: 'acme:spy', apply(t) { t.hooks.done.tap('acme:spy', (s) => writeFileSync('done.json', JSON.stringify(s))); } });",
    );
    const running = startPoke(['train', ...FAST, '--set', 'train.epochs=500', '-n', 'int', '--plugin', './done-spy.mjs'], dir);
    await running.waitFor(/^epoch 2\/500/m);
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code, result.stderr).to.equal(130);
    expect(result.stderr).to.include('SIGINT: stopping after the current step');
    expect((await runInfo(dir, 'int')).status).to.equal('interrupted');
    const done = JSON.parse(await readFile(join(dir, 'done.json'), 'utf8'));
    expect(done.status).to.equal('interrupted');
    expect(done.epochs).to.be.lessThan(500);
  });

  it('a second poke train on a run folder in use refuses with a clear message', async () => {
    const dir = await tempDir('lock');
    // Held at step 20 until the SIGINT below, however long the second trainer takes to start.
    const first = startPoke(['train', ...FAST, '--set', 'train.epochs=500', '-n', 'busy', ...holdAt(20)], dir);
    await first.waitFor(/^test: holding at step 20$/m);
    const second = await poke(['train', ...FAST, '-n', 'busy', '--resume'], dir);
    first.child.kill('SIGINT');
    await first.result;
    expectUserError(second, /run folder .*busy is in use by process \d+/);
  });

  it('lists and runs sub-commands that installed plugin packages contribute', async () => {
    const dir = await tempDir('ext');
    const pkg = join(dir, 'node_modules', 'poke-plugin-hello');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'poke-plugin-hello', type: 'module', poke: { commands: { hello: { description: 'say hello', module: './cli.js' } } } }),
    );
    await writeFile(
      join(pkg, 'cli.js'),
      "export default (program) => { program.command('hello').argument('<who>').option('--json').action((who, o) => console.log(o.json ? JSON.stringify({ hello: who }) : 'hello ' + who)); };",
    );
    const help = await poke(['--help'], dir);
    expect(help.stdout).to.match(/hello\s+say hello \(poke-plugin-hello\)/);
    const run = await poke(['hello', 'world', '--json'], dir);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ hello: 'world' });
  });
});
