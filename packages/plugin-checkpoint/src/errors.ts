import { UserError } from '@poke/core/light';

/** A checkpoint that is missing, altered or unreadable. Names the checkpoint and the file. */
export class CheckpointError extends UserError {
  constructor(
    readonly checkpoint: string,
    readonly file: string | undefined,
    detail: string,
    hint?: string,
  ) {
    super(`checkpoint ${checkpoint}${file ? `: ${file}` : ''}: ${detail}`, hint);
  }
}
