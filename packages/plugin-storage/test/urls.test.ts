import { expect } from 'chai';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readShardSets } from '@poke/core';
import { openStorage, cacheShards } from '@poke/plugin-storage';
import { poke, tempDir } from '../../cli/test/helpers.js';
import { useS3Server, storageConfig } from './helpers.js';

/** Commands that take a folder take s3://bucket/prefix too, with the server from the project config's `storage`. */
describe('s3:// URLs as folders: poke data generate --out, poke compare', function () {
  const { server } = useS3Server();

  /** A project whose config names the server (the storage key), and nothing else. */
  async function project(name: string, config: object = {}): Promise<string> {
    const dir = await tempDir(name);
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify({ storage: storageConfig(server(), 'runs'), ...config }));
    return dir;
  }

  /** The server's credentials, and a temp folder of the command's own, to see what it leaves there. */
  async function envWithTemp(): Promise<{ env: NodeJS.ProcessEnv; temp: string }> {
    const temp = join(await tempDir('tmp'), 'tmp');
    await mkdir(temp);
    return { env: { ...server().env, TMPDIR: temp }, temp };
  }

  const generate = (dir: string, out: string, extra: string[] = [], env: NodeJS.ProcessEnv = server().env) =>
    poke(['data', 'generate', '--battles', '6', '--seed', '3', '--workers', '1', '--out', out, ...extra], dir, env);

  it('generate --out s3://… --shard I/N: the parts under one prefix read back as the decisions of one unsharded run', async () => {
    const dir = await project('gen-url');
    const url = `s3://${server().bucket}/gen`;
    const { env, temp } = await envWithTemp();
    for (const part of [0, 1]) {
      const result = await generate(dir, `${url}/part-${part}`, ['--shard', `${part}/2`, '--json'], env);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout).out).to.equal(`${url}/part-${part}`);
    }
    const whole = await generate(dir, 'whole');
    expect(whole.code, whole.stderr).to.equal(0);
    expect(await readdir(temp), 'no scratch folder is left').to.deep.equal([]);

    const { bucket } = openStorage(storageConfig(server(), 'gen'), { stallSeconds: 10, partSize: 5242880, queueSize: 1, retrySeconds: 1 });
    const cached = await cacheShards(bucket, url, join(dir, 'cache'), () => {});
    bucket.client.destroy();
    const remote = await readShardSets(cached);
    const local = await readShardSets(join(dir, 'whole'));
    expect(remote.size).to.equal(local.size);
    const all = (d: typeof local) => d.gather(Array.from({ length: d.size }, (_, i) => i));
    expect(Buffer.from(all(remote).features.buffer).equals(Buffer.from(all(local).features.buffer))).to.equal(true);
    expect(Array.from(all(remote).labels)).to.deep.equal(Array.from(all(local).labels));
  });

  it('generate --out s3://… with wrong credentials: one clear error before any battle is played', async () => {
    const dir = await project('gen-denied');
    const result = await generate(dir, `s3://${server().bucket}/denied`, [], { ...server().env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(result.code).to.equal(2);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('poke: '));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/storage s3:\/\/poke-test\/denied: the server refused the credentials/);
    expect(result.stdout, 'no battle summary').to.equal('');
    expect(result.stderr).to.not.include('not-the-secret');
  });

  it('compare s3://…/runs ranks the runs on the server as compare ranks them locally', async () => {
    const dir = await project('cmp-train', {
      data: { source: 'synthetic', samples: 300, features: 8, actions: 4 },
      model: { hiddenSizes: [8] },
      train: { epochs: 1, batchSize: 64, backend: 'cpu' },
      plugins: ['@poke/plugin-checkpoint', '@poke/plugin-csv'],
    });
    for (const [name, rate] of [['slow', '0.0001'], ['fast', '0.01']] as const) {
      const trained = await poke(['train', '--no-progress', '--run-name', name, '--set', `train.learningRate=${rate}`], dir, server().env);
      expect(trained.code, trained.stderr).to.equal(0);
    }
    const local = await poke(['compare', 'runs', '--json'], dir);
    expect(local.code, local.stderr).to.equal(0);

    const elsewhere = await project('cmp-elsewhere');
    const { env, temp } = await envWithTemp();
    const remote = await poke(['compare', `s3://${server().bucket}/runs`, '--json'], elsewhere, env);
    expect(remote.code, remote.stderr).to.equal(0);
    const rank = (stdout: string) => (JSON.parse(stdout) as Array<{ name: string; value: number | null }>).map((r) => [r.name, r.value]);
    expect(rank(remote.stdout).map(([name]) => name).sort()).to.deep.equal(['fast', 'slow']);
    expect(rank(remote.stdout)).to.deep.equal(rank(local.stdout));
    expect(await readdir(temp), 'the mirrored run files are removed').to.deep.equal([]);
  });

  it('a scheme no installed package serves is refused with the fix', async () => {
    const dir = await tempDir('gs');
    const result = await poke(['compare', 'gs://bucket/runs'], dir);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('poke: gs://bucket/runs: no installed package serves gs:// URLs');
  });
});
