import { UserError } from '@poke/core';

/** Error names S3 gives when the credentials are missing, wrong or not allowed. */
const REFUSED = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError', 'AuthorizationHeaderMalformed']);

/** An answer a retry cannot change: the user must fix the credentials, the bucket or the run name. */
export function isPermanent(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? '';
  return REFUSED.has(name) || name === 'NoSuchBucket' || name === 'UserError';
}

/** The SDK's error as one line for the user, with what to do about it. */
export function storageUserError(url: string, err: unknown): UserError {
  const name = (err as { name?: string }).name ?? 'Error';
  if (name === 'NoSuchBucket') return new UserError(`storage ${url}: the bucket does not exist (NoSuchBucket)`, 'create it, or fix storage.url');
  return new UserError(
    `storage ${url}: the server refused the credentials (${name}: ${(err as Error).message})`,
    'poke takes credentials from the standard AWS chain only: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
  );
}

/** A remote object whose bytes do not match what its commit marker says. */
export class CorruptObjectError extends Error {
  override name = 'CorruptObjectError';
}

/** A short description of a failed request, for warnings. */
export function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string };
  const what = e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || /timed? ?out/i.test(e.message ?? '') ? 'no answer from the server (stalled)' : (e.message ?? String(err));
  return e.name && !what.startsWith(e.name) ? `${e.name}: ${what}` : what;
}
