import { distance } from 'fastest-levenshtein';

/** The closest candidate to `word`, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  // A truncated name (`split` for `splitFiles`) is a likely typo however long the rest is.
  const prefixed = list.filter((c) => word.length >= 3 && c.toLowerCase().startsWith(word.toLowerCase()));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of list) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match ? ` (did you mean "${match}"?)` : '';
}
