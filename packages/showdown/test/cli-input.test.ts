import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import showdown from '@poke/showdown';
import { FORMATS } from '../src/formats.js';
import { makeTrainer, tempDir } from '../../core/test/helpers.js';
import { poke } from '../../cli/test/helpers.js';

/** A port on 127.0.0.1 that nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What each battle command says to input it cannot use: one line naming the flag or the path, exit code 2, nothing played or written. */
describe('the battle commands refuse bad input before playing', function () {
  this.timeout(5 * 60_000);

  async function refused(args: string[], dir: string, message: RegExp): Promise<void> {
    const result = await poke(args, dir);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
    expect(result.stderr).to.match(message);
    expect(result.stderr, 'a user error, not a crash').not.to.match(/internal error|\n\s+at /);
  }

  const playable = /poke plays gen9randombattle, /;

  it('--format: a gen 9 singles random battle the simulator knows, in eval, play and data generate', async () => {
    const dir = await tempDir('bad-format');
    await refused(['eval', 'random', '--format', 'bogus', '--battles', '2'], dir, /--format "bogus": the simulator has no such format/);
    await refused(['eval', 'random', '--format', 'gen9ou', '--battles', '2'], dir, /--format "gen9ou": \[Gen 9\] OU is not a gen 9 singles random battle/);
    await refused(['play', 'random', '--accept', '--format', 'gen9ou'], dir, playable);
    await refused(['data', 'generate', '--out', 'demo', '--battles', '2', '--format', 'gen9randomdoublesbattle'], dir, /Random Doubles Battle is not a gen 9 singles random battle/);
    expect(existsSync(join(dir, 'demo')), 'data generate wrote nothing').to.equal(false);
    for (const command of [['eval'], ['play'], ['data', 'generate']]) {
      const help = await poke([...command, '--help'], dir);
      expect(help.stdout.replace(/\s+/g, ' '), `${command.join(' ')} --help`).to.include(`battle format: ${FORMATS.join(', ')}`);
    }
  });

  it('data generate --out: a path that cannot be a folder is refused before any battle', async () => {
    const dir = await tempDir('bad-out');
    await writeFile(join(dir, 'taken'), 'a file');
    await refused(['data', 'generate', '--out', 'taken', '--battles', '2'], dir, /--out taken: cannot make the folder .*taken \(EEXIST\)/);
    await refused(['data', 'generate', '--out', 'taken/demo', '--battles', '2'], dir, /--out taken\/demo: cannot make the folder .* \(ENOTDIR\)/);
  });

  it('--seed must be an integer and --backend one of the backends', async () => {
    const dir = await tempDir('bad-seed');
    for (const seed of ['abc', '1.7', '']) await refused(['eval', 'random', '--seed', seed, '--battles', '2'], dir, new RegExp(`--seed must be an integer, got "${seed}"`));
    await refused(['data', 'generate', '--out', 'demo', '--seed', '3x'], dir, /--seed must be an integer, got "3x"/);
    await refused(['play', 'random', '--accept', '--seed', 'x'], dir, /--seed must be an integer/);
    await refused(['eval', 'random', '--backend', 'bogus', '--battles', '2'], dir, /--backend must be one of auto, tensorflow, wasm, cpu, got "bogus"/);
    await refused(['play', 'random', '--accept', '--backend', 'gpu'], dir, /--backend must be one of auto, tensorflow, wasm, cpu, got "gpu"/);
  });

  it('--server: an address that is not a URL is refused; a server that cannot be reached is given up after --reconnects', async () => {
    const dir = await tempDir('bad-server');
    await refused(['eval', 'random', '--server', 'not a url', '--vs-user', 'x'], dir, /--server "not a url": not a URL/);
    await refused(['eval', 'random', '--server', 'ftp://127.0.0.1:1', '--vs-user', 'x'], dir, /--server "ftp:\/\/127\.0\.0\.1:1": the scheme must be ws, wss, http, https, not ftp/);
    await refused(['play', 'random', '--accept', '--server', 'ftp://127.0.0.1:1'], dir, /the scheme must be ws, wss, http, https, not ftp/);
    await refused(['eval', 'random', '--server', 'ws://127.0.0.1:8000', '--vs-user', 'x', '--reconnects', '-1'], dir, /--reconnects must be a whole number \(0 or more\), got "-1"/);
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}/showdown/websocket`;
    const evalRun = await poke(['eval', 'random', '--server', `ws://127.0.0.1:${port}`, '--vs-user', 'x', '--reconnects', '2'], dir);
    expect(evalRun.code, evalRun.stderr).to.equal(2);
    expect(evalRun.stderr.match(/connection lost; reconnecting in/g)).to.have.length(2);
    expect(evalRun.stderr).to.include(`the connection to ${url} failed 3 times in a row with no login in between; giving up`);
    await refused(['play', 'random', '--accept', '--server', `ws://127.0.0.1:${port}`, '--reconnects', '0'], dir, new RegExp(`the connection to ${url} failed \\(--reconnects 0\\); giving up`));
    expect(existsSync(join(dir, 'eval-server')) || existsSync(join(dir, 'play')), 'no battle, nothing written').to.equal(false);
  });

  it('a player that holds no policy says what the path is instead', async () => {
    const dir = await tempDir('bad-player');
    await mkdir(join(dir, 'runs', 'fresh'), { recursive: true });
    await writeFile(join(dir, 'runs', 'fresh', 'run.json'), '{}');
    await writeFile(join(dir, 'notes.txt'), 'hi');
    await mkdir(join(dir, 'empty'));
    await mkdir(join(dir, 'broken', 'checkpoints'), { recursive: true });
    await writeFile(join(dir, 'broken', 'checkpoints', 'checkpoints.json'), '{oops');
    await refused(['eval', 'heurstic', '--battles', '2'], dir, /heurstic does not exist \(built-in players: random, maxpower, heuristic, expert\)/);
    await refused(['eval', 'runs/fresh', '--battles', '2'], dir, /runs\/fresh is a run folder without checkpoints/);
    await refused(['eval', 'random', '--vs', 'notes.txt', '--battles', '2'], dir, /notes\.txt is a file, not a run folder or a checkpoint folder/);
    await refused(['eval', 'empty', '--battles', '2'], dir, /empty is neither a run folder .* nor a checkpoint folder \(with metadata\.json\)/);
    await refused(['eval', 'broken', '--battles', '2'], dir, /broken\/checkpoints\/checkpoints\.json: not valid JSON/);
  });

  it('data.format in a config: the same formats, named by the config path', async () => {
    const dir = await tempDir('bad-format-config');
    const user = { data: { source: 'showdown', battles: 2, format: 'gen9randomdoublesbattle' }, train: { backend: 'cpu' as const } };
    const error = await makeTrainer(user, dir, { plugins: [showdown()] }).then((t) => t.run()).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.match(/data\.format/).and.match(/"gen9randombattle"/).and.match(/gen9randomdoublesbattle/);
  });
});
