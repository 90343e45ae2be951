import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CorruptObjectError } from './errors.js';

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

export interface RemoteObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** One bucket, through the official SDK: files up by multipart upload, down with their sha256 checked. */
export class Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
    private readonly upload: { partSize: number; queueSize: number },
  ) {}

  /** Upload a local file; resolves with the digest of the bytes sent once the server holds them all. */
  async putFile(key: string, path: string): Promise<FileDigest> {
    const digest = await fileDigest(path);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.name, Key: key, Body: createReadStream(path), Metadata: { sha256: digest.sha256 } },
      partSize: this.upload.partSize,
      queueSize: this.upload.queueSize,
      leavePartsOnError: false,
    });
    await upload.done();
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
    if (head.ContentLength !== digest.bytes) {
      throw new CorruptObjectError(`${key}: the server holds ${head.ContentLength} bytes of ${digest.bytes} sent`);
    }
    return digest;
  }

  /** One request, for small objects (markers, run.json): S3 replaces an object whole or not at all. */
  async putBytes(key: string, body: string | Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body }));
  }

  /** The object's text, or undefined when there is none. */
  async getText(key: string): Promise<string | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return await got.Body!.transformToString();
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /**
   * Download `key` into `path` through a temporary file that is renamed into place
   * only when its size and sha256 are `expected`; otherwise a CorruptObjectError.
   */
  async getFile(key: string, path: string, expected?: FileDigest): Promise<FileDigest> {
    const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(got.Body as Readable, count, createWriteStream(temp));
      const digest = { bytes, sha256: hash.digest('hex') };
      if (expected && (digest.bytes !== expected.bytes || digest.sha256 !== expected.sha256)) {
        throw new CorruptObjectError(`${key}: ${digest.bytes} bytes with sha256 ${digest.sha256.slice(0, 12)}…, but its commit marker says ${expected.bytes} bytes with sha256 ${expected.sha256.slice(0, 12)}…`);
      }
      await rename(temp, path);
      return digest;
    } catch (err) {
      if (isMissing(err)) throw new CorruptObjectError(`${key} is missing`);
      throw err;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Every object under `prefix`, all pages. */
  async list(prefix: string): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, '') });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
  }
}

/** The size and sha256 of a local file, read as a stream. */
export async function fileDigest(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  const { size } = await stat(path);
  // Small files in one read; large ones streamed so a 1 GB checkpoint never sits in memory.
  if (size < 8 * 1024 * 1024) hash.update(await readFile(path));
  else for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { bytes: size, sha256: hash.digest('hex') };
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
