import { expect } from 'chai';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers.js';
import { runRefusing } from '../../../test/refusing-import.js';

const TFJS = /\/@tensorflow\//;
/** tfjs, or the native addon the checksum comes from. */
const TFJS_OR_ADDON = /\/@tensorflow\/|\/@node-rs\//;

/** Import `specifier` in a fresh Node process that refuses modules matching `refused`; the exports it found, or why it failed. */
function importRefusing(specifier: string, refused: RegExp): { ok: boolean; exports: string[]; stderr: string } {
  const body = `const module = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(module)));`;
  const child = runRefusing(refused, body, join(REPO_ROOT, 'packages', 'plugin-checkpoint'));
  return { ok: child.ok, exports: child.ok ? (JSON.parse(child.last) as string[]) : [], stderr: child.stderr };
}

describe('@poke/plugin-checkpoint/hooks, the light entry', function () {
  this.timeout(60_000);

  it('gives the hooks, the plugin name and manifest reading without loading tfjs or the checksum addon', () => {
    const light = importRefusing('@poke/plugin-checkpoint/hooks', TFJS_OR_ADDON);
    expect(light.ok, light.stderr).to.equal(true);
    expect(light.exports).to.include.members(['getCheckpointHooks', 'PLUGIN_NAME', 'readManifest', 'readMetadata', 'MANIFEST_FILE']);
  });

  it('is told apart by the refusal: the whole package does load tfjs', () => {
    const whole = importRefusing('@poke/plugin-checkpoint', TFJS);
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
