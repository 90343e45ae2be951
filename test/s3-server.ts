import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Context } from 'mocha';
import { requirePinnedTool } from './pinned-tool.js';
import { freePort } from '../packages/plugin-mlflow/test/server.js';

/** Resolves with s3proxy's jar, installed into the cache on first need (scripts/install-s3proxy.sh). */
export function requireS3proxy(ctx: Context): Promise<string> {
  return requirePinnedTool(ctx, {
    tool: 's3proxy',
    label: 's3proxy',
    runtime: { missing: 'java or mvn is not installed (needed to fetch and run s3proxy)', fix: 'apt-get install default-jre-headless maven' },
  });
}

/** The log line s3proxy's Jetty prints once it accepts connections. */
const READY = /Started ServerConnector/;

/**
 * A real S3-compatible server (s3proxy, filesystem backend) on 127.0.0.1 and a
 * random free port, its data in a temporary folder. stop() then start() keep the
 * port and the objects (a server that is down for a while); pause() freezes it
 * with SIGSTOP, so connections stay open and nothing answers (a stalled upload).
 */
export class S3Server {
  readonly endpoint: string;
  readonly accessKeyId = `key-${randomBytes(6).toString('hex')}`;
  readonly secretAccessKey = randomBytes(12).toString('hex');
  /** A bucket that exists from the start. */
  readonly bucket = 'poke-test';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  private constructor(readonly dir: string, readonly port: number, private readonly jar: string) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  /** Installs s3proxy first if needed, so `ctx` is the calling hook's or test's. */
  static async create(ctx: Context): Promise<S3Server> {
    return S3Server.launch(await requireS3proxy(ctx));
  }

  /** A server from s3proxy's `jar` (the benchmarks run it outside mocha). */
  static async launch(jar: string): Promise<S3Server> {
    const server = new S3Server(await mkdtemp(join(tmpdir(), 'poke-s3-')), await freePort(), jar);
    await mkdir(join(server.dir, 'data', server.bucket), { recursive: true });
    await server.start();
    return server;
  }

  /** Where the filesystem backend keeps the object `key` of the test bucket. */
  objectPath(key: string): string {
    return join(this.dir, 'data', this.bucket, key);
  }

  /** AWS_* variables that make the standard credential chain find this server's keys. */
  get env(): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: this.accessKeyId, AWS_SECRET_ACCESS_KEY: this.secretAccessKey, AWS_REGION: 'us-east-1' };
  }

  async start(): Promise<void> {
    const properties = join(this.dir, 's3proxy.conf');
    await writeFile(
      properties,
      [
        `s3proxy.endpoint=${this.endpoint}`,
        's3proxy.authorization=aws-v2-or-v4',
        `s3proxy.identity=${this.accessKeyId}`,
        `s3proxy.credential=${this.secretAccessKey}`,
        'jclouds.provider=filesystem-nio2',
        // The backend wants keys of its own; local files check none.
        'jclouds.identity=local',
        'jclouds.credential=local',
        `jclouds.filesystem.basedir=${join(this.dir, 'data')}`,
      ].join('\n') + '\n',
    );
    const child = spawn('java', ['-jar', this.jar, '--properties', properties], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
    await new Promise<void>((resolve, reject) => {
      const onData = (data: Buffer) => {
        this.output = (this.output + data.toString()).slice(-20_000);
        if (READY.test(this.output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void this.exited.then(() => reject(new Error(`s3proxy exited with ${exitCode} before it was ready:\n${this.output.slice(-3000)}`)));
    });
  }

  /** Freeze the server: it keeps its sockets but answers nothing until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await this.exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real s3proxy for the suite, started in `before` and stopped in `after`, and
 * the AWS_* variables the SDK's standard chain reads, set meanwhile.
 */
export function useS3Server(): { server: () => S3Server } {
  let server: S3Server | undefined;
  const saved: Record<string, string | undefined> = {};
  before(async function (this: Context) {
    server = await S3Server.create(this);
    for (const [name, value] of Object.entries(server.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.dispose();
  });
  return { server: () => server! };
}
