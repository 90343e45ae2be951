/** errno codes that mean the disk refused a write: the environment, not a bug in poke. */
const DISK_ERRORS: Readonly<Record<string, string>> = Object.freeze({
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
});

/**
 * `no space left on device (ENOSPC)` for a full, over-quota or read-only disk,
 * undefined for any other error: the caller tells the user in one line, and
 * rethrows everything else as the bug it is.
 */
export function describeDiskError(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && Object.hasOwn(DISK_ERRORS, code) ? `${DISK_ERRORS[code]} (${code})` : undefined;
}
