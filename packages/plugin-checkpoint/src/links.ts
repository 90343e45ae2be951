import { symlink, rename, rm, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Point `checkpoints/<name>` (best, latest) at a checkpoint folder: a relative
 * symlink, replaced atomically by renaming a new link over the old one, so the
 * path is stable and no weights are written twice.
 */
export async function pointLink(dir: string, name: 'best' | 'latest', target: string | null): Promise<void> {
  const path = join(dir, name);
  if (target === null) {
    await rm(path, { force: true });
    return;
  }
  const current = await readlink(path).catch(() => undefined);
  if (current === target) return;
  const temp = join(dir, `.${name}.tmp-${randomBytes(4).toString('hex')}`);
  await symlink(target, temp, 'dir');
  await rename(temp, path);
}
