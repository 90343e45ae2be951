import { Type } from '@sinclair/typebox';
import type { PluginSpec } from '../plugins/spec.js';
import { choice, defineOptions, withDefault } from '../plugins/define-options.js';
import type { OptionsOf, ResolvedOptionsOf } from '../plugins/define-options.js';
import { storageConfigSchema } from './storage.js';
import type { ResolvedStorageConfig } from './storage.js';

export const ACTIVATIONS = ['relu', 'tanh', 'elu', 'gelu', 'selu'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export type BackendName = (typeof BACKENDS)[number];

/** `data`: the core's two keys; the other keys are the chosen source's, checked by the source's own schema. */
const dataSchema = Type.Object(
  {
    source: withDefault(Type.String({ description: '`synthetic`, `shards`, or a source a plugin registers' }), 'synthetic'),
    valFraction: withDefault(
      Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'share held out for validation; the same samples for the same seed' }),
      0.1,
    ),
  },
  { additionalProperties: Type.Unknown({ description: "the source's options (below)" }) },
);

/**
 * The core's config: the one definition of every key, its default and its
 * description. The types, `poke init`'s commented config and docs/config.md's
 * key table are read from it. Plugins and data sources validate their own parts.
 */
export const coreConfigSchema = defineOptions(
  {
    runName: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
        description: 'folder under `runsDir`: letters, digits, `.`, `_`, `-`; default `run-<yyyymmdd>-<hhmmss>`',
      }),
    ),
    runsDir: withDefault(Type.String({ minLength: 1, description: "relative to the config file's folder" }), 'runs'),
    seed: withDefault(Type.Integer({ description: 'weight init, split, shuffling and dropout all derive from it' }), 42),
    data: withDefault(dataSchema, {}),
    model: withDefault(
      defineOptions({
        hiddenSizes: withDefault(Type.Array(Type.Integer({ minimum: 1 }), { description: 'widths of the hidden layers' }), [256, 256]),
        activation: withDefault(choice(ACTIVATIONS, { description: 'the nonlinearity after each hidden layer' }), 'relu'),
        dropout: withDefault(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'after each hidden layer; 0 turns it off' }), 0.1),
      }),
      {},
    ),
    train: withDefault(
      defineOptions({
        epochs: withDefault(Type.Integer({ minimum: 1, description: 'passes over the training split' }), 5),
        batchSize: withDefault(Type.Integer({ minimum: 1, description: 'samples per optimizer step' }), 256),
        learningRate: withDefault(Type.Number({ exclusiveMinimum: 0, description: 'Adam' }), 0.001),
        logEvery: withDefault(Type.Integer({ minimum: 1, description: 'a metrics record every N global steps, and one per epoch' }), 50),
        backend: withDefault(choice(BACKENDS, { description: 'where tensors are computed ([backends.md](backends.md))' }), 'auto'),
      }),
      {},
    ),
    storage: Type.Optional(storageConfigSchema),
    plugins: withDefault(
      Type.Unsafe<PluginSpec[]>({ type: 'array', description: 'factories\' results, package or short names, paths, or `[name, options]` pairs (below)' }),
      [],
    ),
  },
  { $id: 'poke:config' },
);

/** The options a data source reads besides the core's two keys. */
type SourceOptions = { [option: string]: unknown };

/** The config a user writes: every key may be left out. */
export type UserConfig = Omit<OptionsOf<typeof coreConfigSchema>, 'data'> & { data?: OptionsOf<typeof dataSchema> & SourceOptions };

type Resolved = ResolvedOptionsOf<typeof coreConfigSchema>;
type Frozen<T> = T extends readonly (infer E)[] ? readonly Frozen<E>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

/** The config once validated: defaults filled in, frozen. */
export type ResolvedConfig = Frozen<Omit<Resolved, 'runName' | 'data' | 'storage' | 'plugins'>> & {
  readonly runName: string | undefined;
  readonly data: Frozen<Resolved['data']> & Readonly<SourceOptions>;
  /** Object storage of runs, or undefined when runs live on the local disk only. */
  readonly storage?: ResolvedStorageConfig;
  /** Absolute path of the config file, or undefined for the built-in default. */
  readonly configFile: string | undefined;
  /** Names of the plugins in use, as given (for config.json and trackers). */
  readonly plugins: readonly PluginSpec[];
};
