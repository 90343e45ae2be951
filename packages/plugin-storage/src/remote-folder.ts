import { parseStorageUrl } from '@poke/core/internal';
import type { OpenRemoteFolder, RemoteFolder } from '@poke/core';
import { openStorage, checkAccess, checkedStorage, defaultStorageOptions } from './plugin.js';
import { mirrorPrefix, uploadFolder } from './folder.js';

/**
 * `s3://bucket/prefix` as a folder, for the commands that take one (`poke data
 * generate --out`, `poke compare`): listed under `poke.schemes` in package.json.
 * Wrong credentials or a missing bucket are refused here, before any work.
 */
const openS3Folder: OpenRemoteFolder = async (url, context) => {
  const { bucket } = openStorage(checkedStorage({ ...context.storage, url }, url), defaultStorageOptions());
  const { prefix } = parseStorageUrl(url);
  try {
    await checkAccess(bucket, url, prefix, context.logger);
  } catch (err) {
    bucket.client.destroy();
    throw err;
  }
  const folder: RemoteFolder = {
    url,
    mirror: (dir, options) => mirrorPrefix(bucket, prefix, dir, options),
    upload: (dir, options) => uploadFolder(bucket, prefix, dir, options),
    close: () => bucket.client.destroy(),
  };
  return folder;
};

export default openS3Folder;
