import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, ArrayDataset, ENCODINGS } from '@poke/core';
import type { EncodingName } from '@poke/core';
import { generateDemonstrations } from './generate.js';
import type { Demonstrator, Opponent } from './generate.js';
import { FORMAT_HELP, demonstratorOf, formatOf, oneOf, opponentOf, positiveInt, seedOf } from './cli-common.js';
import type { Context } from './cli-common.js';
import { generationMeta } from './source.js';
import { parseShard, shardBattles } from './shard.js';
import type { ShardSpec } from './shard.js';
import { shardsOut } from './shards-out.js';
import type { ShardsTarget } from './shards-out.js';
import { importReplayFiles } from './replay/import.js';
import { packDecisions } from './generate-range.js';
import { ACTION_COUNT } from './actions.js';
import { ENCODER_VERSION, FEATURE_SIZE } from './encoder/layout.js';

const ENCODING_HELP = 'how features are stored: float32, float16 (half the size; flags and integers up to 2048 exact) or uint8 (a quarter; exact for integer features spanning ≤ 255, others quantised to 256 levels); see docs/data.md';

const encodingOf = oneOf('--encoding', ENCODINGS);

/** `poke data generate` and `poke data import`. */
export function registerData(program: Command, context: Context): void {
  const data = program.commands.find((c) => c.name() === 'data') ?? program.command('data').description('battle demonstrations: generate by self-play, import replays');
  data
    .command('generate')
    .description("simulate battles and write the demonstrator's decisions as shards")
    .requiredOption('--out <dir>', 'output folder (shards format), or s3://bucket/prefix (uploaded with index.json last, through @poke/plugin-storage)')
    .option('--battles <n>', 'number of battles (with --shard: of the whole run, split between its parts)', positiveInt('--battles'), 200)
    .option('--format <id>', FORMAT_HELP, formatOf, 'gen9randombattle')
    .option('--player <who>', 'the demonstrator (p1), whose decisions are recorded: expert, heuristic or maxpower', demonstratorOf, 'expert' as Demonstrator)
    .option('--opponent <who>', "the demonstrator's opponent: random, maxpower, heuristic or expert (the same as --player records both sides)", opponentOf, 'random' as Opponent)
    .option('--seed <n>', 'seed of the battles (an integer)', seedOf, 1)
    .option('--workers <n>', 'worker threads (default: all cores)', positiveInt('--workers'))
    .option('--logs <dir>', "also write each battle's protocol text: NNNNN.log (replay) and NNNNN.p1.log/.p2.log (player logs with requests)")
    .option('--shard <I/N>', 'write part I (from 0) of N disjoint parts of the run; with N alone, I comes from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm)')
    .option('--encoding <type>', ENCODING_HELP, encodingOf, 'float32' as EncodingName)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: GenerateFlags) => {
      const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
      const range = shard ? shardBattles(flags.battles, shard) : undefined;
      const target = await shardsOut(flags.out, context);
      try {
        await generate(flags, shard, range, target, context);
      } finally {
        target.close();
      }
    });

  data
    .command('import')
    .description('read Showdown replays (replay JSON with a "log", or raw protocol text) into shards; bad files are skipped')
    .argument('<files...>', 'replay files')
    .requiredOption('--out <dir>', 'output folder (shards format), or s3://bucket/prefix')
    .option('--encoding <type>', ENCODING_HELP, encodingOf, 'float32' as EncodingName)
    .option('--json', 'print the summary as JSON')
    .action(async (files: string[], flags: { out: string; encoding: EncodingName; json?: boolean }) => {
      const result = await importReplayFiles(files.map((f) => resolve(context.cwd, f)), context.progress('files'));
      const summary = {
        files: files.length,
        battles: result.battles,
        decisions: result.decisions.length,
        unresolved: result.unresolved,
        skipped: result.skipped,
        ...(result.firstSkipReason ? { firstSkipReason: result.firstSkipReason } : {}),
      };
      if (result.battles === 0) {
        throw new UserError(`no replay could be imported: ${result.skipped} skipped${result.firstSkipReason ? `; first: ${result.firstSkipReason}` : ''}`);
      }
      const packed = packDecisions(result.decisions);
      const target = await shardsOut(flags.out, context);
      try {
        await target.write(new ArrayDataset(packed.features, packed.labels, packed.masks, FEATURE_SIZE, ACTION_COUNT), {
          meta: { source: '@poke/showdown', kind: 'replay-import', ...summary, encoderVersion: ENCODER_VERSION },
          encoding: flags.encoding,
        });
      } finally {
        target.close();
      }
      const out = target.where;
      if (flags.json) console.log(JSON.stringify({ out, ...summary }, null, 2));
      else {
        console.log(`imported ${summary.battles} battles, ${summary.decisions} decisions (${summary.unresolved} whose action the log does not show were left out); wrote ${out}`);
        if (result.skipped) console.log(`skipped ${result.skipped} file(s); first: ${result.firstSkipReason}`);
      }
    });
}

type GenerateFlags = { encoding: EncodingName; out: string; battles: number; format: string; player: Demonstrator; opponent: Opponent; seed: number; workers?: number; logs?: string; shard?: string; json?: boolean };

/** Play the battles, write the shard set to `target`, keep the logs if asked, print the summary. */
async function generate(flags: GenerateFlags, shard: ShardSpec | undefined, range: { start: number; end: number } | undefined, target: ShardsTarget, context: Context): Promise<void> {
  const result = await generateDemonstrations(
    { battles: flags.battles, format: flags.format, opponent: flags.opponent, player: flags.player, seed: flags.seed, ...(flags.workers ? { workers: flags.workers } : {}), keepLogs: Boolean(flags.logs), ...(range ? { range } : {}) },
    context.progress('battles'),
  );
  const part = shard && range ? { shard: { ...shard, battles: [range.start, range.end] } } : {};
  await target.write(result.dataset, { meta: { ...generationMeta(flags, result), ...part }, encoding: flags.encoding });
  const out = target.where;
  if (flags.logs && result.logs) {
    const dir = resolve(context.cwd, flags.logs);
    await mkdir(dir, { recursive: true });
    for (const [i, logs] of result.logs.entries()) {
      const name = String((range?.start ?? 0) + i).padStart(5, '0');
      await writeFile(join(dir, `${name}.log`), logs.log);
      await writeFile(join(dir, `${name}.p1.log`), logs.p1);
      await writeFile(join(dir, `${name}.p2.log`), logs.p2);
    }
  }
  const summary = {
    out,
    battles: result.battles,
    decisions: result.decisions,
    player: flags.player,
    expertWins: result.expertWins,
    seconds: Number(result.seconds.toFixed(3)),
    battlesPerSecond: Number((result.battles / result.seconds).toFixed(2)),
    decisionsPerSecond: Number((result.decisions / result.seconds).toFixed(1)),
    featureSize: FEATURE_SIZE,
    actionCount: ACTION_COUNT,
  };
  if (flags.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(`${summary.battles} battles, ${summary.decisions} decisions in ${summary.seconds} s: ${summary.battlesPerSecond} battles/s, ${summary.decisionsPerSecond} decisions/s`);
    console.log(`${flags.player} won ${summary.expertWins}/${summary.battles} vs ${flags.opponent}; wrote ${out} (${FEATURE_SIZE} features, ${ACTION_COUNT} actions)`);
  }
}
