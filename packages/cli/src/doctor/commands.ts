import { spawnSync } from 'node:child_process';

/** stdout of a short command, or undefined when it is absent or fails. */
export function output(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}`.trim() || `${result.stderr}`.trim();
}

/** Where `name` is on PATH, if it is. */
export function onPath(name: string): string | undefined {
  return output('sh', ['-c', `command -v ${name}`]);
}
