import { existsSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The files this process holds open, as /proc/self/fd names them (real paths, Linux);
 * undefined where there is no /proc/self/fd.
 */
export function openFiles(): string[] | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      paths.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // The descriptor that listed the folder, closed by now.
    }
  }
  return paths;
}
