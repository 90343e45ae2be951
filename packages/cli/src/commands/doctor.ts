import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI_DIR } from '../extensions.js';
import type { CommandContext } from '../context.js';
import { oneLine, type DoctorItem } from '../doctor/item.js';
import { backendItems } from '../doctor/backends.js';
import { cacheItems, cacheRoot } from '../doctor/caches.js';
import { chromiumItem, compilerItem, venvToolItem, nodeItem, npmItem, pythonItem } from '../doctor/tools.js';

/** The clone this CLI runs from (packages/cli/dist → the root), when it is one: fixes then name its scripts. */
function repoRoot(): string | undefined {
  const root = resolve(CLI_DIR, '..', '..', '..');
  return existsSync(join(root, 'scripts', 'setup-native.mjs')) ? root : undefined;
}

/** A command to run in the clone's root, from wherever the user is. */
function inRepo(cwd: string, root: string, command: string): string {
  return resolve(cwd) === root ? command : `cd ${root} && ${command}`;
}

/** Run a check; a check that throws is reported as its own line, so doctor still exits 0. */
async function guarded(name: string, check: () => DoctorItem | DoctorItem[] | Promise<DoctorItem | DoctorItem[]>): Promise<DoctorItem[]> {
  try {
    const result = await check();
    return Array.isArray(result) ? result : [result];
  } catch (err) {
    return [{ name, ok: false, detail: `the check itself failed: ${oneLine(String((err as Error)?.message ?? err))}` }];
  }
}

export async function doctorItems(cwd: string): Promise<DoctorItem[]> {
  const root = repoRoot();
  const nativeFix = root ? inRepo(cwd, root, 'npm run setup-native') : 'npm install @tensorflow/tfjs-node';
  const venvFix = (tool: string) => (root ? inRepo(cwd, root, `bash scripts/install-${tool}.sh`) : `see the plugin-${tool} docs`);
  const items: DoctorItem[] = [];
  const backends = await guarded('backend.tensorflow', () => backendItems(nativeFix));
  items.push(...backends);
  const auto = ['tensorflow', 'wasm', 'cpu'].find((b) => backends.some((i) => i.name === `backend.${b}` && i.ok));
  items.push({ name: 'backend.auto', ok: auto !== undefined, detail: auto ? `picks ${auto}` : 'no backend initialises', data: { picks: auto ?? null } });
  for (const [name, check] of [
    ['node', nodeItem],
    ['npm', npmItem],
    ['python', pythonItem],
    ['c++ toolchain', compilerItem],
    ['mlflow venv', () => venvToolItem(cacheRoot(), 'mlflow', venvFix('mlflow'))],
    ['tensorboard venv', () => venvToolItem(cacheRoot(), 'tensorboard', venvFix('tensorboard'))],
    ['chromium', chromiumItem],
  ] as const) {
    items.push(...(await guarded(name, check)));
  }
  items.push(...(await guarded('cache', () => cacheItems(cwd))));
  return items;
}

function formatLines(items: DoctorItem[]): string {
  const width = Math.max(...items.map((i) => i.name.length));
  return items
    .map((i) => `${i.ok ? 'ok     ' : 'missing'}  ${i.name.padEnd(width)}  ${i.detail}${i.fix ? `; fix: ${i.fix}` : ''}`)
    .join('\n');
}

export function doctorCommand(context: CommandContext): Command {
  return new Command('doctor')
    .description('what poke can use on this machine (backends, TensorFlow, tools, caches) and the command that fixes each missing item')
    .option('--json', 'print one JSON object instead of lines')
    .action(async (flags: { json?: boolean }) => {
      const items = await doctorItems(context.cwd);
      // Always exit 0: missing optional pieces are information, and the output goes into bug reports.
      if (flags.json) process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
      else process.stdout.write(`${formatLines(items)}\n`);
    });
}
