import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_SIZE, importLog, importReplayFiles, playBattle } from '@poke/showdown';
import { tempDir } from '../../core/test/helpers.js';

/** Regressions found by the replay-log properties in chaos/hostile.chaos.ts. */
describe('@poke/showdown replay import: malformed logs', function () {
  this.timeout(120_000);
  let replay: string;
  let playerLog: string;

  before(() => {
    const battle = playBattle({ format: 'gen9randombattle', seed: 3, p1: { kind: 'expert' }, p2: { kind: 'random', seed: 3 }, keepLog: true });
    replay = battle.log!;
    playerLog = battle.playerLogs!.p1;
  });

  /** The log with the first line starting with `prefix` replaced; returns the text and the 1-based line number. */
  function replaceLine(text: string, prefix: string, line: string): { text: string; at: number } {
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.startsWith(prefix));
    expect(i, prefix).to.be.greaterThan(-1);
    lines[i] = line;
    return { text: lines.join('\n'), at: i + 1 };
  }

  it('refuses a log whose values make a feature non-finite, instead of importing NaN features', () => {
    // `|turn|` without a number made the turn NaN: two decisions came out with a NaN feature.
    const { text, at } = replaceLine(replay, '|turn|5', '|turn|');
    expect(() => importLog(text)).to.throw(`line ${at}: a value in the log is out of range (feature meta would be NaN)`);
    // A level too large for a number gives infinite estimated stats.
    const lines = replay.split('\n');
    const switchLine = lines.find((l) => l.startsWith('|switch|p1a: '))!;
    const huge = replay.split(switchLine).join(switchLine.replace(/, L\d+/, `, L${'9'.repeat(400)}`));
    expect(() => importLog(huge)).to.throw(/^line \d+: a value in the log is out of range \(feature /);
    // The untouched log imports, with finite features only.
    const { decisions } = importLog(replay);
    expect(decisions.length).to.be.greaterThan(10);
    for (const d of decisions) {
      expect(d.features.length).to.equal(FEATURE_SIZE);
      expect(d.features.every(Number.isFinite)).to.equal(true);
    }
  });

  it('names the line the battle cannot follow, not a TypeError from inside the client', () => {
    const { text, at } = replaceLine(replay, '|-heal|', '|-heal||309/362|[from] item: Leftovers');
    expect(() => importLog(text)).to.throw(new RegExp(`^line ${at}: cannot follow the \\|-heal\\| line \\(`));
    const moved = replaceLine(replay, '|gametype|', '|move|p1a: Nobody|Earthquake|p2a: Nobody');
    expect(() => importLog(moved.text)).to.throw(/^line \d+: cannot follow the \|move\| line/);
    const noDetails = replaceLine(replay, '|switch|p2a: ', '|switch|p2a: Pikachu');
    expect(() => importLog(noDetails.text)).to.throw(`line ${noDetails.at}: cannot follow the |switch| line (no details)`);
  });

  it('checks |request| lines: JSON, a side id, the same side throughout', () => {
    const empty = replaceLine(playerLog, '|request|', '|request|');
    expect(() => importLog(empty.text)).to.throw(new RegExp(`^line ${empty.at}: \\|request\\| is not valid JSON`));
    const noSide = replaceLine(playerLog, '|request|', '|request|{"side":{"id":"__proto__","pokemon":[]}}');
    expect(() => importLog(noSide.text)).to.throw(`line ${noSide.at}: |request| has no side id p1 or p2`);
    const lines = playerLog.split('\n');
    const second = lines.findIndex((l, i) => l.startsWith('|request|') && i > lines.findIndex((k) => k.startsWith('|request|')));
    lines[second] = lines[second]!.replace('"id":"p1"', '"id":"p2"');
    expect(() => importLog(lines.join('\n'))).to.throw(`line ${second + 1}: |request| is for p2, the earlier ones for p1`);
    expect(importLog(playerLog).decisions.length).to.be.greaterThan(10);
  });

  it('gives the first skip reason as one printable line of bounded length', async () => {
    const dir = await tempDir('replay-import');
    const files = [
      join(dir, 'a\nname with a newline.json'),
      join(dir, 'b-gametype.log'),
      join(dir, 'c-good.log'),
    ];
    await writeFile(files[0]!, '{"log":\n\u001b[31m oops');
    await writeFile(files[1]!, replaceLine(replay, '|gametype|', `|gametype|${'x'.repeat(100_000)}\r\u202e`).text);
    await writeFile(files[2]!, replay);
    const result = await importReplayFiles(files);
    expect(result).to.include({ battles: 1, skipped: 2 });
    expect(result.firstSkipReason).to.match(/^a name with a newline\.json: not valid JSON: /);
    expect(result.firstSkipReason).to.not.match(/[\u0000-\u001f\u007f]/);
    const gametype = await importReplayFiles([files[1]!]);
    expect(gametype.firstSkipReason).to.match(/^b-gametype\.log: unsupported game type x+…$/);
    expect(gametype.firstSkipReason!.length).to.be.lessThan(100);
  });
});
