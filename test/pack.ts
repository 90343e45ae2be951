/**
 * Every workspace packed once per test process with `npm pack`, into a folder
 * outside the clone: what a registry would serve, and what the packaging and
 * package-check tests install or lint instead of the workspace folders.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir } from './temp-dirs.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Packed {
  /** The folder holding every tarball. */
  dir: string;
  /** Package name → tarball path. */
  tarballs: Map<string, string>;
  /** Package name → the paths inside its tarball. */
  files: Map<string, string[]>;
}

/**
 * The environment a user's shell would give npm: nothing `npm test` exported
 * about this clone (npm_config_*, npm_package_*), so a child npm reads the
 * project it runs in.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command as a user types it (env from userEnv), settled with its exit code rather than thrown. */
export function runAsUser(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: userEnv(extraEnv), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let packing: Promise<Packed> | undefined;

export function packWorkspaces(): Promise<Packed> {
  packing ??= (async () => {
    const dir = await makeTempDir('poke-test-packs-');
    const { stdout } = await promisify(execFile)('npm', ['pack', '--workspaces', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      env: userEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    const entries = JSON.parse(stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
    return {
      dir,
      tarballs: new Map(entries.map((entry) => [entry.name, join(dir, entry.filename)])),
      files: new Map(entries.map((entry) => [entry.name, entry.files.map((file) => file.path)])),
    };
  })();
  return packing;
}
