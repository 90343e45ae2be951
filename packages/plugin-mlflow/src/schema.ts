/** Options of `@poke/plugin-mlflow`. */
export interface MlflowOptions {
  /** `http(s)://host:port` of the tracking server. @default process.env.MLFLOW_TRACKING_URI */
  trackingUri?: string;
  /** Experiment name; created when missing. @default "poke" */
  experiment?: string;
  /** MLflow run name. @default the run folder's name */
  runName?: string;
  /** Extra tags on the run. */
  tags?: Record<string, string>;
  /** Upload checkpoints as artifacts under `checkpoints/<id>/`: none, the best ones, or all. @default false */
  logCheckpoints?: false | 'best' | 'all';
  /** Seconds between rounds of requests while records arrive; the first goes at once. @default 1 */
  flushInterval?: number;
  /** Seconds `done` may spend delivering what is left; the rest stays in the spool. @default 10 */
  finishTimeout?: number;
  /** Seconds per request. @default 15 */
  requestTimeout?: number;
  /** Longest wait between retries, in seconds. @default 30 */
  maxBackoff?: number;
}

export const mlflowOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    trackingUri: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'http(s) URI of the tracking server (default: MLFLOW_TRACKING_URI)' },
    experiment: { type: 'string', minLength: 1, maxLength: 500, default: 'poke', description: 'experiment name; created when missing' },
    runName: { type: 'string', minLength: 1, maxLength: 250, description: "MLflow run name (default: the run folder's name)" },
    tags: {
      type: 'object',
      propertyNames: { maxLength: 250, minLength: 1 },
      additionalProperties: { type: 'string', maxLength: 8000 },
      default: {},
      description: 'extra run tags',
    },
    logCheckpoints: { enum: [false, 'best', 'all'], default: false, description: 'upload checkpoints as artifacts' },
    flushInterval: { type: 'number', minimum: 0, maximum: 3600, default: 1, description: 'seconds between rounds of requests while records arrive' },
    finishTimeout: { type: 'number', minimum: 0, maximum: 3600, default: 10, description: 'seconds the end of a run may spend delivering' },
    requestTimeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 15, description: 'seconds per request' },
    maxBackoff: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30, description: 'longest wait between retries, seconds' },
  },
} as const;
