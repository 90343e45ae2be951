/**
 * Where a run's objects live under `s3://bucket/prefix/`:
 *
 *   <run>/run.json, config.json, metrics.csv     mirrored files, each replaced whole
 *   <run>/checkpoints/<id>/<file>                a checkpoint's files
 *   <run>/checkpoints/<id>.commit.json           its commit marker, written last
 *
 * A checkpoint exists remotely exactly when its marker does.
 */
export const COMMIT_SUFFIX = '.commit.json';

export class RunLayout {
  readonly root: string;

  constructor(prefix: string, readonly runName: string) {
    this.root = prefix ? `${prefix}/${runName}` : runName;
  }

  file(name: string): string {
    return `${this.root}/${name}`;
  }

  get checkpoints(): string {
    return `${this.root}/checkpoints/`;
  }

  checkpointFile(id: string, name: string): string {
    return `${this.checkpoints}${id}/${name}`;
  }

  checkpointFolder(id: string): string {
    return `${this.checkpoints}${id}/`;
  }

  marker(id: string): string {
    return `${this.checkpoints}${id}${COMMIT_SUFFIX}`;
  }

  /** The checkpoint id of a marker key, or undefined for any other key. */
  markerId(key: string): string | undefined {
    if (!key.startsWith(this.checkpoints) || !key.endsWith(COMMIT_SUFFIX)) return undefined;
    const id = key.slice(this.checkpoints.length, -COMMIT_SUFFIX.length);
    return id.includes('/') ? undefined : id;
  }

  /** The checkpoint id a file key belongs to, or undefined for a key outside any checkpoint folder. */
  folderId(key: string): string | undefined {
    if (!key.startsWith(this.checkpoints)) return undefined;
    const rest = key.slice(this.checkpoints.length);
    const slash = rest.indexOf('/');
    return slash > 0 ? rest.slice(0, slash) : undefined;
  }
}
