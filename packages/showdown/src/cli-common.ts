import { UserError } from '@poke/core';
import type { RemoteFolder } from '@poke/core';
import { DEMONSTRATORS, OPPONENTS } from './generate.js';
import type { Demonstrator, Opponent } from './generate.js';

/** The part of @poke/cli's CommandContext these commands use. */
export interface Context {
  readonly cwd: string;
  setExitCode(code: number): void;
  /** A bar on a terminal, a line every few seconds in a log. */
  progress(label: string): (done: number, total: number) => void;
  /** A folder given as a URL (s3://bucket/prefix), through the package that serves its scheme. */
  remoteFolder(url: string): Promise<RemoteFolder>;
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function isOpponent(value: string): value is Opponent {
  return (OPPONENTS as readonly string[]).includes(value);
}

export function opponentOf(value: string): Opponent {
  if (!isOpponent(value)) throw new UserError(`--opponent must be one of ${OPPONENTS.join(', ')}, got "${value}"`);
  return value;
}

export function demonstratorOf(value: string): Demonstrator {
  if (!(DEMONSTRATORS as readonly string[]).includes(value)) throw new UserError(`--player must be one of ${DEMONSTRATORS.join(', ')}, got "${value}"`);
  return value as Demonstrator;
}
