import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKENDS, UserError } from '@poke/core';
import type { RemoteFolder } from '@poke/core';
import { DEMONSTRATORS, OPPONENTS } from './generate.js';
import { FORMATS, formatProblem } from './formats.js';
import type { Opponent } from './generate.js';
import { serverProblem } from './play/address.js';

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

/** A count that may be 0 (--reconnects). */
export function wholeNumberOf(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UserError(`${name} must be a whole number (0 or more), got "${value}"`);
    return n;
  };
}

/** --server: a Showdown server's address, as Bot takes it (ws://host:port or the full websocket URL). */
export function serverOf(value: string): string {
  const problem = serverProblem(value);
  if (problem) throw new UserError(`--server "${value}": ${problem}`, 'ws://127.0.0.1:8000');
  return value;
}

export function isOpponent(value: string): value is Opponent {
  return (OPPONENTS as readonly string[]).includes(value);
}

/** The built-in player `value` names, unless a folder of that name exists (a run called `random` stays reachable as ./random). */
export function builtinNamed(value: string, cwd: string): Opponent | undefined {
  return isOpponent(value) && !isFolder(resolve(cwd, value)) ? value : undefined;
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

export const FORMAT_HELP = `battle format: ${FORMATS.join(', ')} (the gen 9 singles random battles)`;

/** --format: a format poke plays (see formats.ts). */
export function formatOf(value: string): string {
  const problem = formatProblem(value);
  if (problem) throw new UserError(`--format ${problem}`);
  return value;
}

/** --seed: any integer, as the config's seeds. */
export function seedOf(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new UserError(`--seed must be an integer, got "${value}"`);
  return n;
}

/** A flag whose value is one of `values`, as positiveInt is for counts. */
export function oneOf<const V extends readonly string[]>(name: string, values: V) {
  return (value: string): V[number] => {
    if (!values.includes(value)) throw new UserError(`${name} must be one of ${values.join(', ')}, got "${value}"`);
    return value;
  };
}

export const backendOf = oneOf('--backend', BACKENDS);
export const opponentOf = oneOf('--opponent', OPPONENTS);
export const demonstratorOf = oneOf('--player', DEMONSTRATORS);
