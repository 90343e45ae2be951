import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import checkpoint from '@poke/plugin-checkpoint';
import showdown from '@poke/showdown';
import { readResults } from './play-helpers.js';
import { makeTrainer, tempDir } from '../../core/test/helpers.js';
import { poke, startPoke } from '../../cli/test/helpers.js';
import type { Running } from '../../cli/test/helpers.js';
import { startShowdownServer } from '../../../test/showdown-server.js';
import { requirePinnedTool } from '../../../test/pinned-tool.js';
import type { ShowdownServer } from '../../../test/showdown-server.js';

const POKE_ENV_PLAYER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'poke_env_player.py');

/** Run a Python script to its end; stdout and stderr together for failure messages. */
function runPython(python: string, args: string[]): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, output }));
  });
}

/** `poke play` as a user runs it, against the test's server. */
function play(server: ShowdownServer, dir: string, player: string, name: string, args: string[]): Running {
  return startPoke(['play', player, '--server', server.url, '--name', name, '--backend', 'cpu', ...args], dir);
}

describe('poke play on a real pokemon-showdown server', function () {
  this.timeout(600_000);
  let server: ShowdownServer;
  let dir: string;

  before(async function () {
    this.timeout(600_000);
    server = await startShowdownServer();
    dir = await tempDir('showdown-play');
    // A small trained policy: the bot under test plays with the training encoder and masks.
    const user = { runName: 'bot', data: { source: 'showdown', battles: 20, workers: 1 }, model: { hiddenSizes: [32] }, train: { epochs: 2, batchSize: 64, backend: 'cpu' as const } };
    const trainer = await makeTrainer(user, dir, { plugins: [showdown(), checkpoint()] });
    expect((await trainer.run()).status).to.equal('completed');
  });

  after(async () => {
    await server?.stop();
  });

  it('two bots play 5 battles through the server; every battle has a log and a result line on both sides, and the logs import', async () => {
    const acceptor = play(server, dir, 'heuristic', 'acceptor', ['--accept', 'challenger', '--battles', '5', '--out', 'acceptor']);
    await acceptor.waitFor(/logged in as acceptor/);
    const challenger = await play(server, dir, 'runs/bot', 'challenger', ['--challenge', 'acceptor', '--battles', '5', '--max-concurrent', '2', '--timer', '--json']).result;
    expect(challenger.code, challenger.stderr).to.equal(0);
    const summary = JSON.parse(challenger.stdout) as { battles: number; aborted: number; outDir: string; malformed: number; forwardPasses: number };
    expect(summary).to.include({ battles: 5, aborted: 0, malformed: 0, outDir: join(dir, 'runs', 'bot', 'play') });
    const accepted = await acceptor.result;
    expect(accepted.code, accepted.stderr).to.equal(0);

    const ours = await readResults(summary.outDir);
    const theirs = new Map((await readResults(join(dir, 'acceptor'))).map((l) => [l.battle, l]));
    expect(ours).to.have.length(5);
    // Every decision went through a forward pass, some passes answering both battles at once or not.
    expect(summary.forwardPasses).to.be.within(1, ours.reduce((n, l) => n + l.decisions, 0));
    expect(theirs.size).to.equal(5);
    const opposite = { win: 'loss', loss: 'win', tie: 'tie' } as Record<string, string>;
    for (const line of ours) {
      expect(line.opponent).to.equal('acceptor');
      expect(line.decisions).to.be.greaterThan(0);
      expect(existsSync(join(summary.outDir, line.log)), line.log).to.equal(true);
      const other = theirs.get(line.battle)!;
      expect(other, line.battle).to.not.equal(undefined);
      expect(other.result).to.equal(opposite[line.result]);
      expect(other.turns).to.equal(line.turns);
    }
    const logs = (await readdir(summary.outDir)).filter((f) => f.endsWith('.log')).map((f) => join('runs', 'bot', 'play', f));
    const imported = await poke(['data', 'import', ...logs, '--out', 'played', '--json'], dir);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.include({ battles: 5, skipped: 0 });
  });

  it('a poke-env player (PyPI, pinned) completes 3 battles against poke play', async function () {
    const python = await requirePinnedTool(this, { tool: 'poke-env', label: 'poke-env' });
    const bot = play(server, dir, 'runs/bot', 'pokebot', ['--accept', 'pokeenvplayer', '--battles', '3', '--out', 'vs-poke-env']);
    await bot.waitFor(/logged in as pokebot/);
    const peer = await runPython(python, [POKE_ENV_PLAYER, `${server.url}/showdown/websocket`, 'pokeenvplayer', 'pokebot', '3']);
    expect(peer.code, peer.output.slice(-3000)).to.equal(0);
    const counts = JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as { finished: number; won: number };
    expect(counts.finished).to.equal(3);
    const ours = await bot.result;
    expect(ours.code, ours.stderr).to.equal(0);
    const lines = await readResults(join(dir, 'vs-poke-env'));
    expect(lines.map((l) => [l.opponent, l.result === 'aborted'])).to.deep.equal(Array(3).fill(['pokeenvplayer', false]));
    expect(lines.filter((l) => l.result === 'loss').length).to.equal(counts.won);
    const imported = await poke(['data', 'import', ...lines.map((l) => join('vs-poke-env', l.log)), '--out', 'vs-poke-env-data', '--json'], dir);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.include({ battles: 3 });
  });

  it('poke eval --server --vs-user: a win rate against any account on a server, kept in eval.json', async () => {
    const peer = play(server, dir, 'random', 'evalpeer', ['--accept', '--battles', '3', '--out', 'evalpeer']);
    await peer.waitFor(/logged in as evalpeer/);
    const ev = await poke(['eval', 'runs/bot', '--server', server.url, '--vs-user', 'evalpeer', '--battles', '3', '--backend', 'cpu', '--json'], dir);
    expect(ev.code, ev.stderr).to.equal(0);
    const record = JSON.parse(ev.stdout) as { vs: string; battles: number; wins: number; aborted: number; winRate: number; ci95: [number, number] };
    expect(record).to.include({ vs: 'evalpeer', battles: 3, aborted: 0 });
    expect(record.winRate).to.equal(record.wins / 3);
    expect(record.ci95[0]).to.be.at.most(record.winRate);
    expect((await peer.result).code).to.equal(0);
    const evals = JSON.parse(await readFile(join(dir, 'runs', 'bot', 'eval.json'), 'utf8')) as Record<string, { battles: number }>;
    expect(evals.evalpeer?.battles).to.equal(3);
  });

  it('Ctrl-C takes no new battles and finishes the running ones; every started battle gets its result line', async () => {
    const acceptor = play(server, dir, 'heuristic', 'acceptor2', ['--accept', '--out', 'acceptor2']);
    await acceptor.waitFor(/logged in as acceptor2/);
    const challenger = play(server, dir, 'random', 'challenger2', ['--challenge', 'acceptor2', '--battles', '200', '--max-concurrent', '2', '--out', 'challenger2']);
    await challenger.waitFor(/battle \S+: (win|loss|tie) vs acceptor2/);
    challenger.kill('SIGINT');
    const stopped = await challenger.result;
    expect(stopped.code, stopped.stderr).to.equal(130);
    expect(stopped.stderr).to.match(/stopping: no new battles; finishing \d running/);
    const started = stopped.stderr.match(/battle \S+ started/g)?.length ?? 0;
    const lines = await readResults(join(dir, 'challenger2'));
    expect(lines.length).to.equal(started);
    expect(lines.length).to.be.lessThan(200);
    expect(lines.every((l) => l.result !== 'aborted')).to.equal(true);
    // The acceptor, told to stop while idle, stops at once.
    acceptor.kill('SIGINT');
    expect((await acceptor.result).code).to.equal(130);
  });

  it('refuses a missing mode, a team format and a bad server address with one line and exit 2', async () => {
    for (const args of [['--server', server.url], ['--accept', '--format', 'gen9ou'], ['--accept', '--server', 'not a url']]) {
      const r = await poke(['play', 'random', ...args], dir);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length.at.most(2);
    }
  });
});
