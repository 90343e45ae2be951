import { expect } from 'chai';
import { redactSecrets, redactUrl } from '@poke/core/internal';

describe('redaction', () => {
  it('removes the userinfo of every URL in a text, up to the last @ before the host', () => {
    expect(redactUrl('http://user:pass@host:5000')).to.equal('http://[redacted]@host:5000');
    expect(redactUrl('see https://u:p@ss@host/x and s3://k@bucket/y')).to.equal('see https://[redacted]@host/x and s3://[redacted]@bucket/y');
    expect(redactUrl('http://host/a@b')).to.equal('http://host/a@b');
    expect(redactUrl('mail me at a@b.example')).to.equal('mail me at a@b.example');
  });

  it('redacts query parameters that carry secrets, and keeps the others', () => {
    for (const name of ['token', 'key', 'api_key', 'secret', 'password', 'sig', 'signature', 'access_token', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'auth']) {
      expect(redactUrl(`https://h/p?view=1&${name}=abc123#top`), name).to.equal(`https://h/p?view=1&${name}=[redacted]#top`);
    }
    expect(redactUrl('https://h/p?page=2&sort=asc')).to.equal('https://h/p?page=2&sort=asc');
  });

  it('redactSecrets applies both rules to a whole config: secret keys and URL secrets in any string', () => {
    const config = { plugins: [['mlflow', { trackingUri: 'http://a:b@h', tags: { apiToken: 'x', note: 'https://h/?sig=s' } }]], n: 3 };
    expect(redactSecrets(config)).to.deep.equal({
      plugins: [['mlflow', { trackingUri: 'http://[redacted]@h', tags: { apiToken: '[redacted]', note: 'https://h/?sig=[redacted]' } }]],
      n: 3,
    });
  });
});
