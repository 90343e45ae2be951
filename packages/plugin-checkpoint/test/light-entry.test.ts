import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers.js';

/**
 * A resolve hook, registered in a fresh process before anything is imported,
 * that fails the import of any tfjs package and names who asked for it.
 */
const REFUSE_TFJS = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/@tensorflow/')) throw new Error('loaded ' + resolved.url + ' from ' + context.parentURL);
  return resolved;
}`;

/** Import `specifier` in a fresh Node process that refuses tfjs; the exports it found, or why it failed. */
function importRefusingTfjs(specifier: string): { ok: boolean; exports: string[]; stderr: string } {
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(REFUSE_TFJS)}));
    const module = await import(${JSON.stringify(specifier)});
    console.log(JSON.stringify(Object.keys(module)));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: join(REPO_ROOT, 'packages', 'plugin-checkpoint'),
    encoding: 'utf8',
  });
  const ok = child.status === 0;
  return { ok, exports: ok ? (JSON.parse(child.stdout.trim().split('\n').at(-1)!) as string[]) : [], stderr: child.stderr };
}

describe('@poke/plugin-checkpoint/hooks, the light entry', function () {
  this.timeout(60_000);

  it('gives the hooks, the plugin name and manifest reading without loading tfjs', () => {
    const light = importRefusingTfjs('@poke/plugin-checkpoint/hooks');
    expect(light.ok, light.stderr).to.equal(true);
    expect(light.exports).to.include.members(['getCheckpointHooks', 'PLUGIN_NAME', 'readManifest', 'readMetadata', 'MANIFEST_FILE']);
  });

  it('is told apart by the refusal: the whole package does load tfjs', () => {
    const whole = importRefusingTfjs('@poke/plugin-checkpoint');
    expect(whole.ok).to.equal(false);
    expect(whole.stderr).to.match(/loaded \S+@tensorflow\/tfjs-(layers|core)/);
  });

  it('shares one set of hooks per trainer with the whole package', async () => {
    const light = await import('@poke/plugin-checkpoint/hooks');
    const whole = await import('@poke/plugin-checkpoint');
    const trainer = {} as Parameters<typeof light.getCheckpointHooks>[0];
    expect(light.getCheckpointHooks(trainer)).to.equal(whole.CheckpointPlugin.getHooks(trainer));
    expect(light.PLUGIN_NAME).to.equal(whole.PLUGIN_NAME);
  });
});
