import { expect } from 'chai';
import mlflow, { flattenParams, resolveMlflowOptions, proxiedArtifactPath, splitCredentials, metricValue } from '@poke/plugin-mlflow';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('plugin-mlflow options and params (no server)', () => {
  it('names the plugin and the option path in validation errors', () => {
    expect(message(() => mlflow({ trackingUri: 5 as never }))).to.match(/^plugin poke:mlflow: options\.trackingUri must be string/);
    expect(message(() => mlflow({ trackingUri: 'http://127.0.0.1:1', logCheckpoints: 'some' as never }))).to.match(/^plugin poke:mlflow: options\.logCheckpoints/);
    expect(message(() => mlflow({ trackingUri: 'http://127.0.0.1:1', tags: { a: 1 as never } }))).to.match(/^plugin poke:mlflow: options\.tags\.a must be string/);
    expect(message(() => mlflow({ trackingUri: 'http://127.0.0.1:1', experimnt: 'x' } as never))).to.match(/^plugin poke:mlflow: unknown key "experimnt" in options \(did you mean "experiment"\?\)/);
    expect(message(() => mlflow({ trackingUri: 'file:///tmp/mlruns' }))).to.match(/^plugin poke:mlflow: options\.trackingUri must match/);
  });

  it('takes the tracking URI from MLFLOW_TRACKING_URI, and requires one', () => {
    expect(resolveMlflowOptions({}, { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' })).to.include({ trackingUri: 'http://127.0.0.1:5000', experiment: 'poke', logCheckpoints: false });
    expect(message(() => resolveMlflowOptions({}, {}))).to.equal('plugin poke:mlflow: options.trackingUri is required when MLFLOW_TRACKING_URI is not set');
    expect(message(() => resolveMlflowOptions({}, { MLFLOW_TRACKING_URI: 'databricks' }))).to.match(/MLFLOW_TRACKING_URI must be an http\(s\) URI/);
    expect(resolveMlflowOptions({ trackingUri: 'http://127.0.0.1:1' }, { MLFLOW_TRACKING_URI: 'http://127.0.0.1:2' }).trackingUri).to.equal('http://127.0.0.1:1');
  });

  it('flattens the config to dotted params, JSON for non-strings, cut at the length limit with the key named', () => {
    const { params, truncated } = flattenParams(
      { seed: 7, runName: 'r', train: { epochs: 2, backend: 'cpu' }, model: { hiddenSizes: [16, 8] }, empty: {}, none: null, long: 'x'.repeat(7000), skip: undefined },
    );
    expect(params).to.deep.equal({
      seed: '7', runName: 'r', 'train.epochs': '2', 'train.backend': 'cpu', 'model.hiddenSizes': '[16,8]', empty: '{}', none: 'null', long: 'x'.repeat(6000),
    });
    expect(truncated).to.deep.equal(['long']);
  });

  it('maps artifact URIs to proxy paths, moves URL credentials to a header, and spells non-finite metrics as MLflow does', () => {
    expect(proxiedArtifactPath('mlflow-artifacts:/1/abc/artifacts')).to.equal('1/abc/artifacts');
    expect(proxiedArtifactPath('mlflow-artifacts://host:5000/1/abc/artifacts/')).to.equal('1/abc/artifacts');
    expect(proxiedArtifactPath('s3://bucket/1/abc')).to.equal(undefined);
    const { uri, headers } = splitCredentials('http://me:s%40cret@127.0.0.1:5000/');
    expect(uri).to.equal('http://127.0.0.1:5000');
    expect(headers.authorization).to.equal(`Basic ${Buffer.from('me:s@cret').toString('base64')}`);
    expect([metricValue(1.5), metricValue(NaN), metricValue(Infinity), metricValue(-Infinity)]).to.deep.equal([1.5, 'NaN', 'Infinity', '-Infinity']);
  });
});
