import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { REPO_ROOT } from '../../core/test/helpers.js';
import { requireMlflow } from './install.js';

export { requireMlflow };

/** A port that was free a moment ago, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real `mlflow server` on 127.0.0.1: sqlite backend, artifacts in a temporary
 * folder, served through the server's artifact proxy. stop() and start() again
 * keep the port and the data (for outage tests).
 */
export class MlflowServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, readonly port: number, private readonly bin: string) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Installs MLflow first if needed (see requireMlflow), so `ctx` is the calling hook's or test's. */
  static async create(ctx: Context): Promise<MlflowServer> {
    const bin = await requireMlflow(ctx);
    const root = join(REPO_ROOT, '.cache', 'test-tmp');
    await mkdir(root, { recursive: true });
    const server = new MlflowServer(await mkdtemp(join(root, 'mlflow-server-')), await freePort(), bin);
    await server.start();
    return server;
  }

  get logPath(): string {
    return join(this.dir, 'server.log');
  }

  async start(): Promise<void> {
    const log = openSync(this.logPath, 'a');
    const child = spawn(
      this.bin,
      [
        'server',
        '--backend-store-uri', `sqlite:///${join(this.dir, 'mlflow.db')}`,
        '--artifacts-destination', join(this.dir, 'artifacts'),
        '--serve-artifacts',
        '--host', '127.0.0.1',
        '--port', String(this.port),
        '--workers', '1',
      ],
      // Its own process group, so stop() ends the server and the workers it starts.
      { cwd: this.dir, detached: true, stdio: ['ignore', log, log], env: { ...process.env, MLFLOW_TRACKING_URI: '' } },
    );
    closeSync(log);
    this.child = child;
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`mlflow server exited with ${exitCode}:\n${this.logTail()}`);
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`mlflow server did not answer /health within 180 s:\n${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  logTail(): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    kill('SIGKILL'); // workers left in the group, if any
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
