import { arch, cpus, hostname, platform, release, totalmem, type } from 'node:os';
import { dump } from 'js-yaml';
import { POKE_VERSION } from '@poke/core';
import { wandbConfig } from './delivery.js';

/** What the run's metadata says of where it ran (from run.json and the process). */
export interface RunOrigin {
  startedAt: string;
  backend: string | undefined;
  gitCommit: string | undefined;
  root: string;
}

/**
 * The `_wandb` config key. The SDK keeps its telemetry there, and reads `t` back
 * (RunResumeStatus's wandbConfig(keys: ["t"])) to tell a run that a client started
 * from one that was only created: without it, `wandb.init(id=…, resume="must")`
 * answers that the run does not exist. `t.13` is the platform, as the SDK writes it.
 */
export function wandbInternalConfig(): Record<string, unknown> {
  return { t: { '13': `${platform()}-${arch() === 'x64' ? 'x86_64' : arch()}` }, m: [], poke_version: POKE_VERSION, node_version: process.versions.node };
}

/** wandb-metadata.json (W&B's Overview tab), with the SDK's field names where poke has the same fact. */
export function runMetadata(origin: RunOrigin): Record<string, unknown> {
  const cores = cpus();
  return {
    os: `${type()}-${release()}-${arch()}`,
    startedAt: origin.startedAt,
    program: 'poke train',
    args: process.argv.slice(2),
    root: origin.root,
    host: hostname(),
    executable: process.execPath,
    ...(origin.gitCommit ? { git: { commit: origin.gitCommit } } : {}),
    cpu_count_logical: cores.length,
    ...(cores[0] ? { cpu: { model: cores[0].model } } : {}),
    memory: { total: String(totalmem()) },
    node: process.versions.node,
    poke: POKE_VERSION,
    ...(origin.backend ? { backend: origin.backend } : {}),
  };
}

/** config.yaml as the SDK uploads it: the config as sent, `{ key: { value } }`, in YAML. */
export function configYaml(config: Record<string, unknown>): string {
  return dump(wandbConfig(config));
}
