import type { UserConfig } from './schema.js';

/** Identity: exists so a poke.config.ts gets types and completion. */
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: () => UserConfig | Promise<UserConfig>): () => UserConfig | Promise<UserConfig>;
export function defineConfig(config: unknown): unknown {
  return config;
}
