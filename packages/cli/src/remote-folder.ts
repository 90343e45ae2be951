import { pathToFileURL } from 'node:url';
import { UserError, loadConfig, urlScheme } from '@poke/core';
import type { Logger, OpenRemoteFolder, RemoteFolder, StorageConfig } from '@poke/core';
import { discoverScheme, CLI_DIR } from './extensions.js';

/** The package that serves each scheme poke knows of, for the hint when it is not installed. */
const KNOWN_SCHEMES: Record<string, string> = { s3: '@poke/plugin-storage' };

/**
 * Open `url` through the installed package that serves its scheme. The server's
 * address (endpoint, region, path style) comes from the project config's
 * `storage`, when it has one; credentials from the environment, as for training.
 */
export async function openRemoteFolder(url: string, cwd: string, logger: Logger): Promise<RemoteFolder> {
  const scheme = urlScheme(url);
  if (!scheme) throw new Error(`not a URL: ${url}`);
  const server = discoverScheme([cwd, CLI_DIR], scheme);
  if (!server) {
    const pkg = KNOWN_SCHEMES[scheme];
    throw new UserError(`${url}: no installed package serves ${scheme}:// URLs`, pkg ? `npm install ${pkg}` : 'install a poke package that lists the scheme under poke.schemes');
  }
  const mod = (await import(pathToFileURL(server.module).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new Error(`${server.pkg}: ${server.module} must default-export a function (url, context) => RemoteFolder`);
  }
  const { user } = await loadConfig({ cwd });
  const storage = user.storage as StorageConfig | undefined;
  return (mod.default as OpenRemoteFolder)(url, { ...(storage ? { storage } : {}), logger });
}
