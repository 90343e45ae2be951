import { scrub } from './auth.js';

/** The GraphQL documents W&B's SDKs send (the JS SDK's UpsertBucket and Viewer, trimmed to what poke reads). */
export const UPSERT_BUCKET = `mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, $groupName: String, $description: String, $displayName: String, $notes: String, $commit: String, $config: JSONString, $host: String, $debug: Boolean, $program: String, $repo: String, $jobType: String, $state: String, $sweep: String, $tags: [String!], $summaryMetrics: JSONString) {
  upsertBucket(input: { id: $id, name: $name, groupName: $groupName, modelName: $project, entityName: $entity, description: $description, displayName: $displayName, notes: $notes, config: $config, commit: $commit, host: $host, debug: $debug, jobProgram: $program, jobRepo: $repo, jobType: $jobType, state: $state, sweep: $sweep, tags: $tags, summaryMetrics: $summaryMetrics }) {
    bucket { id name displayName project { id name entity { id name } } }
    inserted
  }
}`;

export const VIEWER = `query Viewer {
  viewer { id entity }
}`;

/** Variables of UpsertBucket as poke sends them. */
export interface UpsertVars {
  name: string;
  project: string;
  entity: string;
  displayName?: string;
  groupName?: string;
  notes?: string;
  tags?: string[];
  /** JSON text of `{ key: { value, desc } }`, W&B's config format. */
  config?: string;
  commit?: string;
  host?: string;
  program?: string;
  jobType?: string;
}

/** One request to `/files/<entity>/<project>/<run>/file_stream`. */
export type FileStreamBody =
  | { files: Record<string, { offset: number; content: string[] }>; dropped?: number }
  | { complete: true; exitcode: number; dropped?: number };

export class WandbError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** Worth trying again: the network, a timeout, 408, 429 or 5xx. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WandbError';
  }
}

export interface ClientOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The part of W&B's API that poke needs, over Node's fetch: GraphQL for the
 * run and its config, file_stream for history, summary and the exit state.
 * One attempt per call; Delivery decides about retries. Errors never carry the key.
 */
export class WandbClient {
  readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(baseUrl: string, private readonly apiKey: string | undefined, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.authorization = apiKey ? `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}` : undefined;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.signal = options.signal;
  }

  async viewer(): Promise<{ entity: string | undefined }> {
    const data = (await this.graphql('Viewer', VIEWER, {})) as { viewer?: { entity?: string | null } | null };
    return { entity: data.viewer?.entity ?? undefined };
  }

  async upsertBucket(vars: UpsertVars): Promise<{ id: string | undefined; name: string; project: string; entity: string }> {
    const data = (await this.graphql('UpsertBucket', UPSERT_BUCKET, vars as unknown as Record<string, unknown>)) as {
      upsertBucket?: { bucket?: { id?: string; name?: string; project?: { name?: string; entity?: { name?: string } } } };
    };
    const bucket = data.upsertBucket?.bucket;
    if (!bucket) throw new WandbError('UpsertBucket returned no run', undefined, false);
    return {
      id: bucket.id,
      name: bucket.name ?? vars.name,
      project: bucket.project?.name ?? vars.project,
      entity: bucket.project?.entity?.name ?? vars.entity,
    };
  }

  fileStream(entity: string, project: string, run: string, body: FileStreamBody): Promise<unknown> {
    const path = `/files/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/${encodeURIComponent(run)}/file_stream`;
    return this.post(path, body);
  }

  async graphql(operation: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
    const result = (await this.post('/graphql', { query, variables, operationName: operation })) as { data?: unknown; errors?: Array<{ message?: string }> };
    if (result?.errors?.length) {
      const message = result.errors.map((e) => e.message ?? 'error').join('; ');
      throw new WandbError(this.clean(`${operation}: ${message}`), 200, false);
    }
    if (result?.data === undefined || result.data === null) throw new WandbError(`${operation}: no data in the answer`, 200, false);
    return result.data;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    if (!this.authorization) throw new WandbError('no API key (set WANDB_API_KEY or run `wandb login`, which writes ~/.netrc)', undefined, false);
    const url = this.baseUrl + path;
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])];
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.authorization, 'user-agent': 'poke-plugin-wandb' },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new WandbError(this.clean(`POST ${url}: ${why}`), undefined, true);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const status = response.status;
      const retryable = status === 408 || status === 429 || status >= 500;
      const hint = status === 401 || status === 403 ? ' (is the API key right for this server?)' : '';
      throw new WandbError(this.clean(`POST ${url}: HTTP ${status}${hint}${text ? `: ${text.slice(0, 200)}` : ''}`), status, retryable);
    }
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new WandbError(this.clean(`POST ${url}: the answer is not JSON: ${text.slice(0, 200)}`), response.status, true);
    }
  }

  private clean(message: string): string {
    return scrub(message, this.apiKey);
  }
}
