import { join, basename } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '@poke/core';
import { CheckpointManager } from './manager.js';
import { readMetadata } from './read-json.js';
import { describeChecksum } from './checksum.js';
import type { ManifestEntry } from './types.js';

interface Context {
  readonly cwd: string;
  setExitCode(code: number): void;
}

/** RUN_DIR may be a run folder or its checkpoints folder. */
async function openReadOnly(runDir: string): Promise<CheckpointManager> {
  const dir = existsSync(join(runDir, 'checkpoints.json')) ? runDir : join(runDir, 'checkpoints');
  if (!existsSync(dir)) throw new UserError(`${runDir} has no checkpoints (no ${join(basename(runDir), 'checkpoints')} folder)`);
  return CheckpointManager.open(dir, { monitor: { name: 'val_loss', mode: 'min' } });
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function rows(manager: CheckpointManager) {
  const { best, latest } = manager.currentManifest;
  return manager.list().map((e: ManifestEntry) => ({ ...e, best: e.id === best, latest: e.id === latest }));
}

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(header));
  for (const r of body) console.log(line(r));
}

/** `poke ckpt ls|show|verify`: contributed to the poke CLI through package.json `poke.commands`. */
export default function registerCkpt(program: Command, context: Context): void {
  // Other packages (retention) add sub-commands to the same `ckpt`.
  const ckpt = program.commands.find((c) => c.name() === 'ckpt') ?? program.command('ckpt');
  ckpt.description("list, show, verify and prune a run's checkpoints");

  ckpt
    .command('ls')
    .description('list checkpoints: id, epoch, step, monitored value, best/latest, size')
    .argument('<run-dir>', 'a run folder (runs/<name>) or its checkpoints folder')
    .option('--json', 'print JSON for programs')
    .action(async (runDir: string, flags: { json?: boolean }) => {
      const manager = await openReadOnly(runDir);
      const list = rows(manager);
      if (flags.json) {
        console.log(JSON.stringify({ monitor: manager.monitor, checkpoints: list }, null, 2));
        return;
      }
      if (list.length === 0) {
        console.log(`no checkpoints in ${manager.dir}`);
        return;
      }
      printTable(
        ['id', 'epoch', 'step', manager.monitor.name, 'mark', 'size', 'reason'],
        list.map((r) => [
          r.id,
          String(r.epoch),
          String(r.step),
          r.value === null ? '-' : r.value.toFixed(6),
          [r.best ? 'best' : '', r.latest ? 'latest' : ''].filter(Boolean).join(','),
          formatBytes(r.bytes),
          r.reason,
        ]),
      );
    });

  ckpt
    .command('show')
    .description("print one checkpoint's metadata")
    .argument('<run-dir>', 'a run folder or its checkpoints folder')
    .argument('<id>', 'checkpoint id, or best / latest')
    .option('--json', 'print the raw metadata.json')
    .action(async (runDir: string, id: string, flags: { json?: boolean }) => {
      const manager = await openReadOnly(runDir);
      const entry = id === 'best' ? manager.getBest() : id === 'latest' ? manager.getLatest() : manager.list().find((e) => e.id === id);
      if (!entry) throw new UserError(`no checkpoint "${id}" in ${manager.dir}; \`poke ckpt ls ${runDir}\` lists them`);
      const metadata = await readMetadata(manager.pathOf(entry.id));
      if (flags.json) {
        console.log(JSON.stringify(metadata, null, 2));
        return;
      }
      const fmt = (v: number | null) => (v === null ? '-' : String(v));
      console.log(`${metadata.id}  (${manager.pathOf(entry.id)})`);
      console.log(`  epoch ${metadata.epoch}, step ${metadata.step}, saved ${metadata.timestamp} (${metadata.reason})`);
      console.log(`  train_loss ${fmt(metadata.train_loss)}  train_accuracy ${fmt(metadata.train_accuracy)}`);
      console.log(`  val_loss ${fmt(metadata.val_loss)}  val_accuracy ${fmt(metadata.val_accuracy)}`);
      console.log(`  monitor ${metadata.monitor.name} (${metadata.monitor.mode}) = ${fmt(metadata.monitor.value)}`);
      console.log(`  poke ${metadata.versions.poke}, tfjs ${metadata.versions.tfjs}, backend ${metadata.backend}${metadata.gitCommit ? `, git ${metadata.gitCommit}` : ''}`);
      for (const [file, info] of Object.entries(metadata.files)) console.log(`  ${file.padEnd(15)} ${formatBytes(info.bytes).padStart(10)}  ${describeChecksum(info)}`);
    });

  ckpt
    .command('verify')
    .description('check every listed checkpoint against its checksums and sizes; exit 1 if any fails')
    .argument('<run-dir>', 'a run folder or its checkpoints folder')
    .option('--json', 'print JSON for programs')
    .action(async (runDir: string, flags: { json?: boolean }) => {
      const manager = await openReadOnly(runDir);
      const results = await manager.verifyAll();
      const failed = results.filter((r) => !r.ok);
      if (flags.json) console.log(JSON.stringify({ checked: results.length, failed: failed.length, results }, null, 2));
      else {
        for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.id}${r.error ? `  ${r.error}` : ''}`);
        console.log(`${results.length - failed.length} of ${results.length} checkpoints verified`);
      }
      if (failed.length) context.setExitCode(1);
    });
}
