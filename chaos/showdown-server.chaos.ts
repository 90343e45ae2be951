import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_FILE } from '@poke/showdown';
import { summary, tempDir, start, poke } from './support.js';
import { startShowdownServer } from '../test/showdown-server.js';
import type { ShowdownServer } from '../test/showdown-server.js';
import { readResults } from '../packages/showdown/test/play-helpers.js';

// The pokemon-showdown server is SIGKILLed while two poke play bots are mid-battle, then started
// again on the same port: the bots reconnect with backoff, record the cut battles as aborted,
// and play on. Nothing is lost: every battle either bot started has a log and a result line.
describe('chaos: the Showdown server dies mid-battle and comes back', function () {
  this.timeout(10 * 60_000);
  let server: ShowdownServer;

  before(async () => {
    server = await startShowdownServer();
  });

  after(async () => {
    await server?.stop();
  });

  it('bots reconnect, unfinished battles are recorded aborted, every battle has a log and a result line', async () => {
    const dir = await tempDir('showdown');
    await writeFile(join(dir, 'package.json'), '{ "name": "poke-chaos", "private": true, "type": "module" }\n');
    const bot = (player: string, name: string, args: string[]) => start(['play', player, '--server', server.url, '--name', name, ...args], dir);
    const acceptor = bot('heuristic', 'acceptor', ['--accept', '--out', 'acceptor']);
    await acceptor.waitFor(/logged in as acceptor/);
    const challenger = bot('random', 'challenger', ['--challenge', 'acceptor', '--battles', '6', '--max-concurrent', '2', '--out', 'challenger']);
    // A battle that has just started (on both sides: the acceptor hears of it last) is far from its end.
    await acceptor.waitFor(/battle \S+ started/, 2);
    await server.kill();
    await challenger.waitFor(/connection lost; reconnecting/);
    await acceptor.waitFor(/connection lost; reconnecting/);
    await server.restart();
    await acceptor.waitFor(/logged in as acceptor/, 2);
    const challenged = await challenger.result;
    expect(challenged.code, challenged.stderr + server.output().slice(-2000)).to.equal(0);
    acceptor.kill('SIGINT');
    const accepted = await acceptor.result;
    expect(accepted.code, accepted.stderr).to.equal(130);

    const counts = { battles: 0, aborted: 0 };
    for (const [side, output] of [['challenger', challenged.stderr], ['acceptor', accepted.stderr]] as const) {
      const lines = await readResults(join(dir, side));
      const started = output.match(/battle \S+ started/g)?.length ?? 0;
      expect(lines.length, `${side}: one result line per battle started`).to.equal(started);
      for (const line of lines) expect(existsSync(join(dir, side, line.log)), `${side} ${line.log}`).to.equal(true);
      expect(lines.some((l) => l.result === 'aborted'), `${side} has aborted battles`).to.equal(true);
      counts.battles += lines.length;
      counts.aborted += lines.filter((l) => l.result === 'aborted').length;
      if (side === 'challenger') expect(lines).to.have.length(6);
      // Finished battles import; aborted ones are truncated logs, which import skips.
      const finished = lines.filter((l) => l.result !== 'aborted');
      const imported = await poke(['data', 'import', ...finished.map((l) => join(side, l.log)), '--out', `${side}-data`, '--json'], dir);
      expect(imported.code, imported.stderr).to.equal(0);
      expect(JSON.parse(imported.stdout)).to.include({ battles: finished.length });
    }
    expect(existsSync(join(dir, 'challenger', RESULTS_FILE))).to.equal(true);
    summary.push({ scenario: 'Showdown server SIGKILL mid-battle', runs: 2, faults: 1, resumed: 2, recordsLost: 0, notes: `${counts.battles} battles recorded by both bots, ${counts.aborted} aborted` });
  });
});
