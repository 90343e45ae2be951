import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_FILE } from '@poke/showdown';
import type { ResultLine } from '@poke/showdown';

/** The result lines `poke play` wrote in a folder (none when it has no results file yet). */
export async function readResults(dir: string): Promise<ResultLine[]> {
  const text = await readFile(join(dir, RESULTS_FILE), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultLine);
}
