import { spawnSync } from 'node:child_process';

/**
 * A resolve hook, registered in a fresh process before anything is imported, that fails the
 * import of any module whose URL matches `pattern` and names who asked for it.
 */
const refusing = (pattern: RegExp) => `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (new RegExp(${JSON.stringify(pattern.source)}).test(resolved.url)) throw new Error('loaded ' + resolved.url + ' from ' + context.parentURL);
  return resolved;
}`;

/**
 * Run the ES module `body` (it may use `await` and should print its answer last) in a fresh Node
 * process in `cwd` that refuses every module matching `pattern`: its last line of output, or why it failed.
 */
export function runRefusing(pattern: RegExp, body: string, cwd: string): { ok: boolean; last: string; stderr: string } {
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(refusing(pattern))}));
    ${body}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
  return { ok: child.status === 0, last: child.stdout.trim().split('\n').at(-1) ?? '', stderr: child.stderr };
}
