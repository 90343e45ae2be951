import type { Dataset } from './dataset.js';

export interface DataSourceContext {
  readonly seed: number;
  /** Folder that relative paths in the data options are resolved against (the config file's folder). */
  readonly baseDir: string;
  /** Where a source may keep a cache (e.g. generated demonstrations). */
  readonly cacheDir: string;
  /**
   * Progress of long loads; the CLI shows a bar when `done` and `total` are given.
   * Call it as often as work advances: the trainer throttles what it prints.
   */
  readonly progress: (message: string, done?: number, total?: number) => void;
  /** Something the user should know that does not stop the run; the trainer logs it as a warning. */
  readonly warn: (message: string) => void;
}

/**
 * A named way to obtain demonstrations. Built in: `synthetic` and `shards`;
 * plugins add more with `trainer.registerDataSource()` in `apply`.
 */
export interface DataSource<Options = Record<string, unknown>> {
  readonly name: string;
  /** JSON schema of the `data` section when this source is chosen (defaults are filled in). */
  readonly schema: object;
  /** A short line saying what will be loaded. */
  describe?(options: Options): string;
  load(options: Options, context: DataSourceContext): Promise<Dataset>;
}
