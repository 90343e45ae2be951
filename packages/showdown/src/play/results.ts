/**
 * What `poke play` keeps of each battle: `<dir>/<id>.log` (the player log, ready for
 * `poke data import`) and one line in `<dir>/results.jsonl`. The log is written before its
 * result line, so a result line always has its log.
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@poke/core';
import type { Outcome } from './session.js';

export interface ResultLine {
  battle: string;
  /** The log's file name in the same folder. */
  log: string;
  opponent: string;
  result: Outcome;
  turns: number;
  /** Choices the server refused (each answered with another legal action). */
  rejected: number;
  /** Protocol lines skipped because they could not be read. */
  malformed: number;
  decisions: number;
  finishedAt: string;
}

export const RESULTS_FILE = 'results.jsonl';

/** A file name for a battle room, unique in the folder even when a restarted server reuses room ids. */
export function logName(room: string, startedAt: number): string {
  return `${startedAt}-${room.replace(/[^a-z0-9-]/gi, '_')}.log`;
}

export async function recordBattle(dir: string, line: Omit<ResultLine, 'finishedAt'>, text: string): Promise<ResultLine> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, line.log), text);
  const full: ResultLine = { ...line, finishedAt: new Date().toISOString() };
  const file = join(dir, RESULTS_FILE);
  await appendFile(file, JSON.stringify(full) + '\n');
  // Flushed before we tell anyone the battle is recorded: a crash after this keeps the line.
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return full;
}
