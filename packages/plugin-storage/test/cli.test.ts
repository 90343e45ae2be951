import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke, tempDir } from '../../cli/test/helpers.js';
import { useS3Server } from './helpers.js';

describe('poke train --storage', function () {
  const { server } = useS3Server();

  it('adds the storage plugin by itself, records the storage (and no credentials) in config.json, and mirrors the run', async () => {
    const dir = await tempDir('storage-cli');
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({
      data: { source: 'synthetic', samples: 300, features: 8, actions: 4 },
      model: { hiddenSizes: [8] },
      train: { epochs: 1, batchSize: 64, backend: 'cpu' },
      plugins: ['@poke/plugin-checkpoint'],
    }));
    const url = `s3://${server().bucket}/cli`;
    const args = ['train', '--no-progress', '--run-name', 'flag', '--storage', url, '--set', `storage.endpoint=${server().endpoint}`, '--set', 'storage.forcePathStyle=true'];
    const result = await poke(args, dir, server().env);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include(`storage: run mirrored to ${url}`);
    const config = await readFile(join(dir, 'runs', 'flag', 'config.json'), 'utf8');
    expect(JSON.parse(config).storage).to.deep.equal({ url, endpoint: server().endpoint, forcePathStyle: true });
    for (const secret of [server().secretAccessKey, server().accessKeyId]) {
      expect(config).to.not.include(secret);
      expect(result.stderr + result.stdout).to.not.include(secret);
    }
    expect(await readFile(server().objectPath('cli/flag/config.json'), 'utf8')).to.equal(config);

    // Another machine ranks the bucket's runs: their run files, pulled, then poke compare.
    const elsewhere = await tempDir('storage-pull');
    const pulled = await poke(['storage', 'pull', url, 'remote-runs', '--endpoint', server().endpoint, '--force-path-style'], elsewhere, server().env);
    expect(pulled.code, pulled.stderr).to.equal(0);
    expect(pulled.stdout).to.include('pulled 1 run(s)');
    // The SDK's notice about its own future Node versions is not the user's business on a supported Node.
    for (const run of [result, pulled]) expect(run.stderr).to.not.include('NodeVersionSupportWarning');
    for (const name of ['run.json', 'config.json']) {
      expect(await readFile(join(elsewhere, 'remote-runs', 'flag', name), 'utf8')).to.equal(await readFile(join(dir, 'runs', 'flag', name), 'utf8'));
    }
    const compared = await poke(['compare', 'remote-runs', '--json'], elsewhere);
    expect(compared.code, compared.stderr).to.equal(0);
    expect(JSON.stringify(JSON.parse(compared.stdout))).to.include('"flag"');
  });
});
