/**
 * The official pokemon-showdown server (the pinned dev dependency), started on 127.0.0.1 for
 * a test with authentication off. The server keeps its config, logs and chat state next to
 * its `dist/` folder, so each instance runs from its own copy in a temp folder (never in
 * node_modules); its dependencies resolve from ours through NODE_PATH.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const PACKAGE_DIR = dirname(require.resolve('pokemon-showdown/package.json'));
const NODE_MODULES = dirname(PACKAGE_DIR);
/** Starting takes a few seconds; a loaded machine, much longer. A backstop, not a timing assertion. */
const START_TIMEOUT_MS = 120_000;

/** Authentication off (`/trn NAME` logs in), no throttling, nothing reaching beyond 127.0.0.1. */
const CONFIG = `'use strict';
exports.bindaddress = '127.0.0.1';
exports.noguestsecurity = true;
exports.nothrottle = true;
exports.subprocesses = 0;
exports.repl = false;
exports.backdoor = false;
exports.loginserver = 'http://127.0.0.1:9/';
exports.reportbattles = false;
exports.autolockdown = false;
exports.logchat = false;
exports.crashguardemail = null;
`;

export interface ShowdownServer {
  readonly port: number;
  /** ws://127.0.0.1:PORT */
  readonly url: string;
  /** What the server printed (for failure messages). */
  output(): string;
  /** SIGKILL: the server dies mid-battle, as a crash would. */
  kill(): Promise<void>;
  /** Start it again on the same port, from the same folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startShowdownServer(): Promise<ShowdownServer> {
  const root = await mkdtemp(join(tmpdir(), 'poke-test-showdown-server-'));
  await cp(join(PACKAGE_DIR, 'dist'), join(root, 'dist'), { recursive: true });
  await cp(join(PACKAGE_DIR, 'package.json'), join(root, 'package.json'));
  for (const dir of ['config/chat-plugins', 'logs/repl', 'logs/chat', 'logs/modlog']) await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, 'config', 'config.js'), CONFIG);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(process.execPath, [join(root, 'dist', 'server', 'index.js'), String(port)], {
        cwd: root,
        env: { ...process.env, NODE_PATH: NODE_MODULES },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      const guard = setTimeout(() => reject(new Error(`pokemon-showdown did not start listening within ${START_TIMEOUT_MS / 1000} s:\n${output.slice(-3000)}`)), START_TIMEOUT_MS);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes(`now listening on 127.0.0.1:${port}`)) {
          clearTimeout(guard);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(guard);
        reject(new Error(`pokemon-showdown exited (${code ?? signal}) before listening:\n${output.slice(-3000)}`));
      });
    });

  await launch();
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    output: () => output,
    async kill() {
      child?.kill('SIGKILL');
      if (child) await exited(child);
    },
    async restart() {
      output += '\n--- restart ---\n';
      await launch();
    },
    async stop() {
      if (child) {
        child.kill('SIGTERM');
        await exited(child);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
