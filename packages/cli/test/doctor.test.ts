import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@poke/core';
import { poke, tempDir } from './helpers.js';

interface Item {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  data?: Record<string, unknown>;
}

/** Every line doctor always prints, whatever is installed. */
const ALWAYS = ['backend.tensorflow', 'backend.wasm', 'backend.cpu', 'backend.auto', 'node', 'npm', 'python', 'c++ toolchain', 'mlflow venv', 'tensorboard venv', 'chromium', 'cache'];

async function doctorJson(cwd: string, env: NodeJS.ProcessEnv): Promise<Item[]> {
  const result = await poke(['doctor', '--json'], cwd, env);
  expect(result.code, result.stderr).to.equal(0);
  const parsed = JSON.parse(result.stdout) as { items: Item[] };
  return parsed.items;
}

function item(items: Item[], name: string): Item {
  const found = items.find((i) => i.name === name);
  expect(found, `no ${name} in ${items.map((i) => i.name).join(', ')}`).to.not.equal(undefined);
  return found!;
}

describe('poke doctor', () => {
  it('prints one line per item, each missing one with its fix, and exits 0', async () => {
    const dir = await tempDir('doctor');
    const result = await poke(['doctor'], dir, { POKE_CACHE_DIR: join(dir, 'empty-cache') });
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split('\n');
    for (const name of ALWAYS) expect(lines.filter((l) => l.split(/\s{2,}/)[1] === name), name).to.have.length(1);
    for (const line of lines) {
      expect(line).to.match(/^(ok|missing) /);
      if (line.startsWith('missing')) expect(line).to.match(/; fix: \S/);
    }
    expect(lines.find((l) => l.includes(' mlflow venv '))).to.match(/^missing .*fix: .*install-mlflow\.sh/);
    expect(lines.find((l) => l.includes(' tensorboard venv '))).to.match(/^missing .*fix: .*install-tensorboard\.sh/);
  });

  it('--json: items with name, ok, detail, a fix when missing; backends, versions and cache sizes', async () => {
    const dir = await tempDir('doctor');
    const cache = join(dir, 'cache');
    // A stand-in MLflow venv: doctor reads the version from the dist-info folder's name.
    const site = join(cache, 'mlflow-venv', 'lib', 'python3.11', 'site-packages');
    await mkdir(join(site, 'mlflow-3.17.2.dist-info'), { recursive: true });
    await mkdir(join(cache, 'mlflow-venv', 'bin'), { recursive: true });
    await writeFile(join(cache, 'mlflow-venv', 'bin', 'mlflow'), 'x'.repeat(1000));
    const items = await doctorJson(dir, { POKE_CACHE_DIR: cache });

    for (const name of ALWAYS) item(items, name);
    for (const i of items) {
      expect(i.name).to.be.a('string');
      expect(i.ok).to.be.a('boolean');
      expect(i.detail).to.be.a('string').and.not.match(/\n/);
      if (!i.ok) expect(i.fix, i.name).to.be.a('string').and.not.equal('');
    }
    for (const name of ['wasm', 'cpu']) expect(item(items, `backend.${name}`).data).to.include({ available: true });
    const tensorflow = item(items, 'backend.tensorflow');
    if (tensorflow.ok) {
      expect(tensorflow.data).to.include({ available: true });
      expect(tensorflow.data!.tensorflowVersion).to.match(/^\d+\.\d+/);
      expect(tensorflow.data!.device).to.be.oneOf(['CPU', 'GPU']);
      // The build adds tensorDataInto where `patch` is installed; doctor must see the addon as this process does.
      await selectBackend('tensorflow');
      const here = typeof (tf.backend() as unknown as { binding: { tensorDataInto?: unknown } }).binding.tensorDataInto === 'function';
      await selectBackend('cpu');
      expect(tensorflow.data!.tensorDataInto).to.equal(here);
      expect(tensorflow.detail.includes('built without tensorDataInto')).to.equal(!here && tensorflow.data!.device === 'CPU');
      expect(item(items, 'backend.auto').data).to.deep.equal({ picks: 'tensorflow' });
    } else {
      expect(tensorflow.fix).to.include('setup-native');
      expect(item(items, 'backend.auto').data).to.deep.equal({ picks: 'wasm' });
    }
    expect(item(items, 'node').data!.version).to.equal(process.versions.node);
    const toolchain = item(items, 'c++ toolchain');
    if (toolchain.ok) expect(toolchain.detail, 'whether `patch` is there, which the addon build uses').to.match(/, patch$|; no patch, /);

    const mlflow = item(items, 'mlflow venv');
    expect(mlflow.ok).to.equal(true);
    expect(mlflow.data).to.include({ version: '3.17.2', installed: true });
    expect(item(items, 'cache').data).to.include({ path: cache, exists: true });
    expect(item(items, 'cache').data!.bytes).to.be.at.least(1000);
    expect(item(items, 'cache.mlflow-venv').data!.bytes).to.be.at.least(1000);
  });

  it('without python, a compiler or npm on PATH: still exits 0, and says what fixes each', async () => {
    const dir = await tempDir('doctor');
    const empty = join(dir, 'empty-bin');
    await mkdir(empty);
    const items = await doctorJson(dir, { PATH: empty, POKE_CACHE_DIR: join(dir, 'cache'), npm_config_user_agent: '' });
    const python = item(items, 'python');
    expect(python.ok).to.equal(false);
    expect(python.fix).to.include('python3-venv');
    expect(item(items, 'c++ toolchain').fix).to.include('g++');
    expect(item(items, 'npm').ok).to.equal(false);
    expect(item(items, 'cache').data).to.include({ exists: false, bytes: 0 });
  });
});
