import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MlflowClient } from '@poke/plugin-mlflow';

/** Credentials in a tracking URI are kept out of every text, but still used: as a Basic Authorization header. */
describe('mlflow: credentials in the tracking URI', () => {
  it('go in the Authorization header, not the URL or the client URI', async () => {
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ experiment: { experiment_id: '7', name: 'x', lifecycle_stage: 'active' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new MlflowClient(`http://alice:p%40ss@127.0.0.1:${port}`);
      expect(client.uri).to.equal(`http://127.0.0.1:${port}`);
      expect((await client.getExperimentByName('x'))?.experiment_id).to.equal('7');
      expect(seen).to.have.length(1);
      expect(seen[0]!.authorization).to.equal(`Basic ${Buffer.from('alice:p@ss').toString('base64')}`);
      expect(seen[0]!.url).to.not.include('alice');
    } finally {
      server.close();
    }
  });
});
