import { scrub } from './auth.js';

/** The GraphQL documents W&B's SDK sends (core/api/graphql/*.graphql in wandb/wandb), trimmed to what poke reads. */
export const UPSERT_BUCKET = `mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, $groupName: String, $description: String, $displayName: String, $notes: String, $commit: String, $config: JSONString, $host: String, $debug: Boolean, $program: String, $repo: String, $jobType: String, $state: String, $sweep: String, $tags: [String!], $summaryMetrics: JSONString) {
  upsertBucket(input: { id: $id, name: $name, groupName: $groupName, modelName: $project, entityName: $entity, description: $description, displayName: $displayName, notes: $notes, config: $config, commit: $commit, host: $host, debug: $debug, jobProgram: $program, jobRepo: $repo, jobType: $jobType, state: $state, sweep: $sweep, tags: $tags, summaryMetrics: $summaryMetrics }) {
    bucket { id name displayName project { id name entity { id name } } }
    inserted
  }
}`;

export const VIEWER = `query Viewer {
  viewer { id entity }
}`;

/** Asked before a run is written to again: what the server holds, so the client continues there. */
export const RUN_RESUME_STATUS = `query RunResumeStatus($project: String, $entity: String, $name: String!) {
  model(name: $project, entityName: $entity) {
    id name entity { id name }
    bucket(name: $name, missingOk: true) {
      id name summaryMetrics displayName logLineCount historyLineCount eventsLineCount historyTail eventsTail config tags notes
      wandbConfig(keys: ["t"])
    }
  }
}`;

export const CREATE_RUN_FILES = `mutation CreateRunFiles($entity: String!, $project: String!, $run: String!, $files: [String!]!) {
  createRunFiles(input: {entityName: $entity, projectName: $project, runName: $run, files: $files}) {
    runID uploadHeaders files { name uploadUrl }
  }
}`;

/** The fields of RunResumeStatus's bucket that poke reads. */
export interface ResumeStatus {
  /** The run's storage id, which the SDK sends back in UpsertBucket's `id`. */
  id: string | null;
  historyLineCount: number;
  eventsLineCount: number;
  logLineCount: number;
  /** The last history line's `_step`, from historyTail (a JSON array of JSON lines). */
  tailStep: number | undefined;
  tags: string[];
  /** `_wandb.t` is in the config: the run was started by a client, not only created. */
  started: boolean;
}

/** Variables of UpsertBucket as poke sends them. */
export interface UpsertVars {
  /** The run's storage id (from RunResumeStatus), sent back as the SDK does on resume. */
  id?: string;
  name: string;
  project: string;
  entity: string;
  /** null leaves the server's value as it is (what the SDK sends once a run exists). */
  displayName?: string | null;
  groupName?: string | null;
  notes?: string | null;
  tags?: string[] | null;
  /** JSON text of `{ key: { value } }`, W&B's config format. */
  config?: string;
  commit?: string;
  host?: string;
  program?: string;
  jobType?: string;
}

/** One request to `/files/<entity>/<project>/<run>/file_stream`. */
export interface FileStreamBody {
  /** Lines of wandb-history.jsonl, wandb-events.jsonl and output.log at their line offsets; wandb-summary.json at offset 0. */
  files?: Record<string, { offset: number; content: string[] }>;
  /** Files whose upload finished (as the SDK reports them). */
  uploaded?: string[];
  complete?: true;
  exitcode?: number;
}

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

  /** Undefined when the server has no such run. */
  async runResumeStatus(entity: string, project: string, name: string): Promise<ResumeStatus | undefined> {
    const data = (await this.graphql('RunResumeStatus', RUN_RESUME_STATUS, { entity, project, name })) as {
      model?: { bucket?: { id?: string; historyLineCount?: number; eventsLineCount?: number; logLineCount?: number; historyTail?: string; tags?: string[]; wandbConfig?: string } | null } | null;
    };
    const bucket = data.model?.bucket;
    if (!bucket) return undefined;
    const tail = parseTail(bucket.historyTail);
    let started = false;
    try {
      started = 't' in (JSON.parse(bucket.wandbConfig ?? '{}') as object);
    } catch {
      // an unreadable wandbConfig counts as a run that was never started, as in runbranch/resume.go
    }
    return {
      id: bucket.id ?? null,
      historyLineCount: bucket.historyLineCount ?? 0,
      eventsLineCount: bucket.eventsLineCount ?? 0,
      logLineCount: bucket.logLineCount ?? 0,
      tailStep: typeof tail?._step === 'number' ? tail._step : undefined,
      tags: bucket.tags ?? [],
      started,
    };
  }

  /** Upload URLs (and headers, `Name:Value`) for files of a run. */
  async createRunFiles(entity: string, project: string, run: string, files: string[]): Promise<{ headers: string[]; urls: Map<string, string> }> {
    const data = (await this.graphql('CreateRunFiles', CREATE_RUN_FILES, { entity, project, run, files })) as {
      createRunFiles?: { uploadHeaders?: string[] | null; files?: Array<{ name: string; uploadUrl?: string | null }> };
    };
    const urls = new Map<string, string>();
    for (const f of data.createRunFiles?.files ?? []) if (f.uploadUrl) urls.set(f.name, f.uploadUrl);
    return { headers: data.createRunFiles?.uploadHeaders ?? [], urls };
  }

  /** PUT a file to the storage URL CreateRunFiles gave: no API key, the URL carries its own authority. */
  async upload(url: string, headers: string[], body: Buffer): Promise<void> {
    const extra: Record<string, string> = {};
    for (const header of headers) {
      const colon = header.indexOf(':');
      if (colon > 0) extra[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    }
    await this.request('PUT', url, body, { ...extra, 'content-length': String(body.length) });
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

  private post(path: string, body: unknown): Promise<unknown> {
    if (!this.authorization) throw new WandbError('no API key (set WANDB_API_KEY or run `wandb login`, which writes ~/.netrc)', undefined, false);
    return this.request('POST', this.baseUrl + path, JSON.stringify(body), { 'content-type': 'application/json', authorization: this.authorization });
  }

  private async request(method: string, url: string, body: string | Buffer, headers: Record<string, string>): Promise<unknown> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])];
    let response: Response;
    try {
      response = await fetch(url, { method, headers: { ...headers, 'user-agent': 'poke-plugin-wandb' }, body, signal: AbortSignal.any(signals) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new WandbError(this.clean(`${method} ${url}: ${why}`), undefined, true);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const status = response.status;
      const retryable = status === 408 || status === 429 || status >= 500;
      const hint = status === 401 || status === 403 ? ' (is the API key right for this server?)' : '';
      throw new WandbError(this.clean(`${method} ${url}: HTTP ${status}${hint}${text ? `: ${text.slice(0, 200)}` : ''}`), status, retryable);
    }
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new WandbError(this.clean(`${method} ${url}: the answer is not JSON: ${text.slice(0, 200)}`), response.status, true);
    }
  }

  private clean(message: string): string {
    return scrub(message, this.apiKey);
  }
}

/** historyTail is a JSON array of history lines, each JSON text in W&B's dialect. */
function parseTail(tail: string | undefined): Record<string, unknown> | undefined {
  try {
    const lines = JSON.parse(tail ?? '[]') as string[];
    const last = lines.at(-1);
    return last === undefined ? undefined : (JSON.parse(last.replace(/\b(-?Infinity|NaN)\b/g, 'null')) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}
