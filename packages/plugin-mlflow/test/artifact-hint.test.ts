import { expect } from 'chai';
import { MlflowClient, MlflowError } from '@poke/plugin-mlflow';

/**
 * The advice for a run whose artifacts are not behind the server's proxy. Checked
 * against mlflow 3.x: `--serve-artifacts` is already the default there, and what
 * gives a run a direct location is `--default-artifact-root`; a server started with
 * `--artifacts-destination` gives new experiments `mlflow-artifacts:/` URIs.
 */
describe('mlflow: a run whose artifact store is not the proxy', () => {
  it('is told to use --artifacts-destination and a new experiment, not --serve-artifacts', async () => {
    const client = new MlflowClient('http://127.0.0.1:9');
    const err = await client.uploadArtifact('/srv/mlruns/1/0123/artifacts', 'checkpoints/x/weights.bin', new Uint8Array(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MlflowError);
    const { message, errorCode, retryable } = err as MlflowError;
    expect([errorCode, retryable]).to.deep.equal(['UNSUPPORTED_ARTIFACT_STORE', false]);
    expect(message).to.include('--artifacts-destination').and.include('--default-artifact-root').and.include('experiment created after');
    expect(message).to.not.include('--serve-artifacts');
  });
});
