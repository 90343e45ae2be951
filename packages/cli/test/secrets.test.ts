import { expect } from 'chai';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { poke, tempDir, FAST } from './helpers.js';
import { MlflowServer } from '../../plugin-mlflow/test/server.js';
import { FakeWandbServer } from '../../plugin-wandb/test/fixtures/wandb-server.js';

/** Every file under `dir`, as text (binary files read as latin1, so a marker in them still shows). */
async function allText(dir: string): Promise<Array<[path: string, text: string]>> {
  const out: Array<[string, string]> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push([path, (await readFile(path)).toString('latin1')]);
  }
  return out;
}

/**
 * A hostile run: secrets planted in a URL's userinfo and query, in the
 * environment and in option values, every logger on (csv, MLflow against a
 * real server, W&B against the stand-in, checkpoints uploaded). None of them
 * may be written, printed or sent, except as credentials in a header.
 */
describe('secrets in URLs, the environment and options', function () {
  this.timeout(300_000);
  let mlflow: MlflowServer;
  let wandb: FakeWandbServer;
  const MARK = {
    urlUser: 'MARKuriuserQ7',
    urlPass: 'MARKuripassQ7',
    envUser: 'MARKenvuserQ7',
    envPass: 'MARKenvpassQ7',
    envToken: 'MARKenvtokenQ7',
    wandbKey: 'MARKwandbkeyQ7',
    queryToken: 'MARKquerytokQ7',
    querySig: 'MARKquerysigQ7',
    tagToken: 'MARKtagtokenQ7',
    notesPass: 'MARKnotespassQ7',
  };

  before(async function () {
    mlflow = await MlflowServer.create(this);
    wandb = await FakeWandbServer.create({ apiKey: MARK.wandbKey });
  });
  after(async () => {
    await mlflow?.dispose();
    await wandb?.stop();
  });

  it('appear nowhere: run folder, spools, output, what the MLflow and W&B servers got', async () => {
    const dir = await tempDir('secrets');
    const port = new URL(mlflow.url).port;
    const config = {
      plugins: [
        'checkpoint',
        'csv',
        [
          'mlflow',
          {
            trackingUri: `http://${MARK.urlUser}:${MARK.urlPass}@127.0.0.1:${port}`,
            experiment: 'secrets',
            logCheckpoints: 'best',
            tags: { dashboard: `https://dash.example/run?token=${MARK.queryToken}&view=1`, api_token: MARK.tagToken },
          },
        ],
        [
          'wandb',
          {
            baseUrl: wandb.url,
            project: 'secrets',
            notes: `artifacts at https://reader:${MARK.notesPass}@store.example/b?X-Amz-Signature=${MARK.querySig}`,
          },
        ],
      ],
    };
    await writeFile(join(dir, 'poke.config.json'), JSON.stringify(config));
    const env = {
      MLFLOW_TRACKING_URI: `http://${MARK.envUser}:${MARK.envPass}@127.0.0.1:1`,
      MLFLOW_TRACKING_TOKEN: MARK.envToken,
      WANDB_API_KEY: MARK.wandbKey,
      WANDB_MODE: undefined,
      WANDB_BASE_URL: undefined,
    };
    const result = await poke(['train', ...FAST, '--set', 'train.epochs=2', '-n', 'hostile', '--no-progress'], dir, env);
    expect(result.code, result.stderr).to.equal(0);

    // It did log everywhere: the checks below would be empty otherwise.
    const runDir = join(dir, 'runs', 'hostile');
    const configJson = await readFile(join(runDir, 'config.json'), 'utf8');
    expect(configJson).to.include(`http://[redacted]@127.0.0.1:${port}`).and.include('token=[redacted]&view=1');
    const mlflowRun = JSON.parse(await readFile(join(runDir, 'mlflow', 'run.json'), 'utf8'));
    expect(mlflowRun.trackingUri).to.equal(`http://127.0.0.1:${port}`);
    expect(mlflowRun.runId).to.be.a('string');
    expect(wandb.runs.size).to.equal(1);
    const serverFiles = await allText(mlflow.dir);
    expect(serverFiles.some(([path]) => path.endsWith('weights.bin')), 'a checkpoint was uploaded').to.equal(true);

    const places: Array<[string, string]> = [
      ...(await allText(runDir)),
      ['stdout', result.stdout],
      ['stderr', result.stderr],
      ...serverFiles,
      // What the W&B stand-in received; the key is in the authorization header by design.
      ['W&B requests', JSON.stringify(wandb.requests.map(({ authorization: _, ...rest }) => rest))],
      ['W&B runs', JSON.stringify([...wandb.runs.values()])],
    ];
    const leaks: string[] = [];
    for (const [where, text] of places) for (const marker of Object.values(MARK)) if (text.includes(marker)) leaks.push(`${marker} in ${where}`);
    expect(leaks).to.deep.equal([]);
  });
});

describe('a secret in a mistyped --plugin flag', () => {
  it('is not echoed by the one-line error', async () => {
    const dir = await tempDir('secret-flag');
    const result = await poke(['train', ...FAST, '--plugin', 'mlflow={"trackingUri":"http://me:MARKflagpassQ7@127.0.0.1:5000"'], dir);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.include('--plugin mlflow={"trackingUri":"http://[redacted]@127.0.0.1:5000"');
    expect(result.stderr).to.not.include('MARKflagpassQ7');
  });
});
