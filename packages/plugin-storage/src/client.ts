import { S3Client } from '@aws-sdk/client-s3';
import type { ResolvedStorageConfig } from '@poke/core';

/**
 * An S3 client for `storage`. Credentials come from the SDK's standard chain
 * (environment, shared profile, SSO, instance role) and nowhere else: poke never
 * holds them, so it can never write or log them.
 */
export function createClient(storage: ResolvedStorageConfig, stallSeconds: number): S3Client {
  quietSdkNodeNotice();
  const stallMs = Math.round(stallSeconds * 1000);
  return new S3Client({
    region: storage.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: storage.forcePathStyle,
    ...(storage.endpoint ? { endpoint: storage.endpoint } : {}),
    // Only what S3 requires: servers other than AWS (s3proxy, older MinIO, R2) reject the
    // SDK's default CRC32 trailers. Integrity is ours to check, by sha256 (marker.ts).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // An idle limit, not a total one: a large part on a slow link may take long, but a
    // server that stops answering mid-part fails that request after stallMs with a
    // TimeoutError, and the SDK retries it.
    requestHandler: { connectionTimeout: stallMs, socketTimeout: stallMs },
  });
}

/**
 * The SDK warns on every Node below 22 that its releases after January 2027 will need 22.
 * poke supports Node 20 and its lockfile pins the SDK, so on every storage command that
 * notice would be eight lines about versions poke does not install. The SDK's own switch
 * turns it off; a user who set that variable either way keeps their choice.
 */
function quietSdkNodeNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
