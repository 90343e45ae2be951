import type { PluginSpec } from '../plugins/types.js';
import { storageConfigSchema } from './storage.js';
import type { StorageConfig, ResolvedStorageConfig } from './storage.js';

export type Activation = 'relu' | 'tanh' | 'elu' | 'gelu' | 'selu';
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** The config a user writes. Everything is optional; `@default` says what is filled in. */
export interface UserConfig {
  /** Name of the run folder under `runsDir`. @default `run-<date>-<time>` */
  runName?: string;
  /** Where run folders go, relative to the config file. @default "runs" */
  runsDir?: string;
  /** Seed of every random stream: weight init, split, shuffling, dropout. @default 42 */
  seed?: number;
  data?: {
    /** A registered data source: `synthetic`, `shards`, or one a plugin adds. @default "synthetic" */
    source?: string;
    /** Fraction of samples held out for validation (a deterministic split). @default 0.1 */
    valFraction?: number;
    /** Options of the chosen source (see its schema). */
    [option: string]: unknown;
  };
  model?: {
    /** Widths of the hidden layers. @default [256, 256] */
    hiddenSizes?: number[];
    /** @default "relu" */
    activation?: Activation;
    /** Dropout rate after each hidden layer. @default 0.1 */
    dropout?: number;
  };
  train?: {
    /** @default 5 */
    epochs?: number;
    /** @default 256 */
    batchSize?: number;
    /** Adam learning rate. @default 0.001 */
    learningRate?: number;
    /** Emit a metrics record every N optimizer steps (and at every epoch end). @default 50 */
    logEvery?: number;
    /** @default "auto" */
    backend?: BackendName;
  };
  /** Object storage that runs are mirrored to and resumed from (`--storage s3://…`); needs @poke/plugin-storage. */
  storage?: StorageConfig;
  /** Plugins: factories' results, package names, relative paths, or [name, options] pairs. */
  plugins?: PluginSpec[];
}

export interface ResolvedConfig {
  readonly runName: string | undefined;
  readonly runsDir: string;
  readonly seed: number;
  readonly data: Readonly<{ source: string; valFraction: number; [option: string]: unknown }>;
  readonly model: Readonly<{ hiddenSizes: readonly number[]; activation: Activation; dropout: number }>;
  readonly train: Readonly<{ epochs: number; batchSize: number; learningRate: number; logEvery: number; backend: BackendName }>;
  /** Object storage of runs, or undefined when runs live on the local disk only. */
  readonly storage?: ResolvedStorageConfig;
  /** Absolute path of the config file, or undefined for the built-in default. */
  readonly configFile: string | undefined;
  /** Names of the plugins in use, as given (for config.json and trackers). */
  readonly plugins: readonly PluginSpec[];
}

/** The core's JSON schema. Plugins and data sources validate their own parts. */
export const coreConfigSchema = {
  $id: 'poke:config',
  type: 'object',
  additionalProperties: false,
  properties: {
    runName: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
      description: 'Run folder name: letters, digits, dot, dash, underscore.',
    },
    runsDir: { type: 'string', minLength: 1, default: 'runs' },
    seed: { type: 'integer', default: 42 },
    data: {
      type: 'object',
      default: {},
      properties: {
        source: { type: 'string', default: 'synthetic' },
        valFraction: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
      },
      additionalProperties: true,
    },
    model: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        hiddenSizes: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [256, 256] },
        activation: { enum: ['relu', 'tanh', 'elu', 'gelu', 'selu'], default: 'relu' },
        dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
      },
    },
    train: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        epochs: { type: 'integer', minimum: 1, default: 5 },
        batchSize: { type: 'integer', minimum: 1, default: 256 },
        learningRate: { type: 'number', exclusiveMinimum: 0, default: 0.001 },
        logEvery: { type: 'integer', minimum: 1, default: 50 },
        backend: { enum: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
      },
    },
    storage: storageConfigSchema,
    plugins: { type: 'array', default: [] },
  },
} as const;
