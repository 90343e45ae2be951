import { redactUrl } from '@poke/core/internal';

/**
 * A small typed client for the MLflow tracking REST API (2.0 endpoints, as
 * served by `mlflow server` 2.x and 3.x), on Node's fetch. Only what poke needs:
 * experiments, runs, log-batch, metric history, and artifacts through the
 * server's artifact proxy (`mlflow-artifacts:/`, on by default since MLflow 2.0).
 */

/** MLflow's own limits (mlflow/utils/validation.py). */
export const LIMITS = Object.freeze({
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  paramValueLength: 6000,
  tagValueLength: 8000,
  keyLength: 250,
  experimentNameLength: 500,
});

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface Metric {
  key: string;
  /** Non-finite values travel as the strings "NaN", "Infinity", "-Infinity" (protobuf JSON). */
  value: number | string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
}

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/**
 * A failed request. `retryable` is true for what an outage looks like (no
 * connection, a timeout, 429, 5xx); a 4xx other than 429 is the server refusing
 * the request, which a retry would not change. `ambiguous` means the request
 * may have been applied although no answer came (the connection broke after it
 * was sent), so the caller checks before sending it again.
 */
export class MlflowError extends Error {
  override name = 'MlflowError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    readonly retryable: boolean,
    readonly ambiguous: boolean,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** Per request. @default 15000 */
  timeoutMs?: number;
  /** Extra headers; by default taken from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD. */
  headers?: Record<string, string>;
  /** Aborts every request of this client (used to stop a background sender at once). */
  signal?: AbortSignal;
}

/** `http://user:pass@host/` → the URI without credentials plus a Basic auth header (fetch refuses credentials in URLs). */
export function splitCredentials(uri: string): { uri: string; headers: Record<string, string> } {
  const url = new URL(uri);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { uri: url.toString().replace(/\/+$/, ''), headers };
}

/**
 * A tracking URI as it may be shown, logged or stored (run.json, messages):
 * without credentials, token-like query parameters redacted. Also what a run
 * remembers its server by, so it never holds a secret.
 */
export function publicUri(uri: string): string {
  return redactUrl(splitCredentials(uri).uri);
}

function envHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.MLFLOW_TRACKING_TOKEN) return { authorization: `Bearer ${env.MLFLOW_TRACKING_TOKEN}` };
  if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD) {
    return { authorization: `Basic ${Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`).toString('base64')}` };
  }
  return {};
}

/** `mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/1/…`) → `1/<run>/artifacts`; undefined for other stores. */
export function proxiedArtifactPath(artifactUri: string): string | undefined {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  return match ? match[1]!.replace(/\/+$/, '') : undefined;
}

function encodePath(path: string): string {
  return path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

export class MlflowClient {
  /** The server, for messages: see publicUri. */
  readonly uri: string;
  /** The server, for requests: credentials moved to the headers. */
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(trackingUri: string, options: ClientOptions = {}) {
    const { uri, headers } = splitCredentials(trackingUri);
    this.base = uri;
    this.uri = redactUrl(uri);
    this.headers = { ...envHeaders(), ...headers, ...options.headers };
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.signal = options.signal;
  }

  /** One request; JSON in, JSON out. Errors are MlflowErrors. */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options: { query?: Record<string, string | number | undefined>; json?: unknown; body?: Uint8Array; signal?: AbortSignal; raw?: boolean } = {},
  ): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.headers };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body;
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([timeout, ...[options.signal, this.signal].filter((s): s is AbortSignal => s !== undefined)]);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: body as string | undefined, signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : cause?.code ?? cause?.message ?? (err as Error).message;
      // ECONNREFUSED means nothing was sent; anything else may have reached the server.
      const ambiguous = method !== 'GET' && cause?.code !== 'ECONNREFUSED';
      throw new MlflowError(`${method} ${url.pathname}: ${reason}`, undefined, undefined, true, ambiguous);
    }
    let text: string;
    let bytes: Uint8Array | undefined;
    try {
      if (options.raw && response.ok) bytes = new Uint8Array(await response.arrayBuffer());
      text = bytes ? '' : await response.text();
    } catch (err) {
      throw new MlflowError(`${method} ${url.pathname}: reading the answer failed: ${(err as Error).message}`, response.status, undefined, true, method !== 'GET');
    }
    if (!response.ok) {
      let code: string | undefined;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        code = parsed.error_code;
        message = parsed.message ?? message;
      } catch {
        // not JSON: keep the text
      }
      const retryable = response.status === 429 || response.status >= 500;
      throw new MlflowError(`${method} ${url.pathname}: HTTP ${response.status}${code ? ` ${code}` : ''}: ${message}`, response.status, code, retryable, retryable && method !== 'GET');
    }
    if (bytes) return bytes as T;
    return (text ? JSON.parse(text) : {}) as T;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const { experiment } = await this.request<{ experiment: Experiment }>('GET', '/api/2.0/mlflow/experiments/get-by-name', { query: { experiment_name: name } });
      return experiment;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const { experiment_id } = await this.request<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { json: { name } });
    return experiment_id;
  }

  /** The id of experiment `name`, created when missing (a concurrent creator is fine). */
  async ensureExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) {
      if (existing.lifecycle_stage === 'deleted') {
        throw new MlflowError(`experiment "${name}" is deleted on ${this.uri}; restore it or choose another experiment`, 400, 'INVALID_STATE', false, false);
      }
      return existing.experiment_id;
    }
    try {
      return await this.createExperiment(name);
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const raced = await this.getExperimentByName(name);
        if (raced) return raced.experiment_id;
      }
      throw err;
    }
  }

  async createRun(args: { experimentId: string; runName?: string; startTime: number; tags?: KeyValue[] }): Promise<Run> {
    const { run } = await this.request<{ run: Run }>('POST', '/api/2.0/mlflow/runs/create', {
      json: { experiment_id: args.experimentId, run_name: args.runName, start_time: args.startTime, tags: args.tags ?? [] },
    });
    return run;
  }

  async getRun(runId: string): Promise<Run> {
    const { run } = await this.request<{ run: Run }>('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: runId } });
    return run;
  }

  async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    const { run_info } = await this.request<{ run_info: RunInfo }>('POST', '/api/2.0/mlflow/runs/update', {
      json: { run_id: runId, status: update.status, end_time: update.endTime, run_name: update.runName },
    });
    return run_info;
  }

  /** One log-batch request; the caller keeps within LIMITS. MLflow applies a batch in one transaction. */
  async logBatch(runId: string, batch: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] }, signal?: AbortSignal): Promise<void> {
    await this.request('POST', '/api/2.0/mlflow/runs/log-batch', {
      json: { run_id: runId, metrics: batch.metrics ?? [], params: batch.params ?? [], tags: batch.tags ?? [] },
      ...(signal ? { signal } : {}),
    });
  }

  /** Every logged value of `key`, all pages. */
  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.request<{ metrics?: Metric[]; next_page_token?: string }>('GET', '/api/2.0/mlflow/metrics/get-history', {
        query: { run_id: runId, metric_key: key, max_results: 25000, page_token: pageToken },
      });
      out.push(...(page.metrics ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Files under `path` of the run's artifacts (one level). */
  async listArtifacts(runId: string, path = ''): Promise<ArtifactFile[]> {
    const { files } = await this.request<{ files?: ArtifactFile[] }>('GET', '/api/2.0/mlflow/artifacts/list', { query: { run_id: runId, path: path || undefined } });
    return files ?? [];
  }

  /** PUT one file through the artifact proxy: `artifactUri` is the run's `mlflow-artifacts:/…` URI. */
  async uploadArtifact(artifactUri: string, path: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const base = proxiedArtifactPath(artifactUri);
    if (base === undefined) {
      throw new MlflowError(
        `the run's artifact store is ${artifactUri}, not the server's artifact proxy (mlflow-artifacts:/): ` +
          'start the server with --artifacts-destination <store> instead of --default-artifact-root, ' +
          'and log to an experiment created after that (an experiment keeps the artifact location it was created with)',
        undefined, 'UNSUPPORTED_ARTIFACT_STORE', false, false,
      );
    }
    await this.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(base)}/${encodePath(path)}`, { body: data, ...(signal ? { signal } : {}) });
  }

  async downloadArtifact(artifactUri: string, path: string): Promise<Uint8Array> {
    const base = proxiedArtifactPath(artifactUri);
    if (base === undefined) throw new MlflowError(`not a proxied artifact store: ${artifactUri}`, undefined, undefined, false, false);
    return this.request<Uint8Array>('GET', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(base)}/${encodePath(path)}`, { raw: true });
  }
}
