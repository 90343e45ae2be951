import type { SpoolEntry } from './spool.js';
import { wandbJson } from './wandb-json.js';

type Console = Extract<SpoolEntry, { t: 'console' }>;

/**
 * A console line as the SDK streams it to output.log (runconsolelogs/runlogschangemodel.go,
 * LegacyFormat): "ERROR " for stderr, the UTC time to the microsecond without a zone, the text.
 * The W&B web UI parses this prefix.
 */
export function streamedConsoleLine(entry: Console, text: string): string {
  const time = entry.at.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000');
  return `${entry.stream === 'stderr' ? 'ERROR ' : ''}${time} ${text}`;
}

/**
 * The files a `files` entry names that the sender builds from the spool: output.log
 * holds every console line of every attempt, as the run printed it; wandb-summary.json
 * the last summary (the SDK uploads both at the end of a run).
 */
export function derivedFiles(entries: readonly SpoolEntry[], names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (names.includes('output.log')) {
    out['output.log'] = entries.flatMap((e) => (e.t === 'console' ? e.lines.map((l) => l + '\n') : [])).join('');
  }
  if (names.includes('wandb-summary.json')) {
    const summary = entries.findLast((e) => e.t === 'summary');
    out['wandb-summary.json'] = summary?.t === 'summary' ? wandbJson(summary.summary) : '{}';
  }
  return out;
}
