/** Which way a monitored metric improves: down (`min`, a loss) or up (`max`, an accuracy). */
export type MonitorMode = 'min' | 'max';

const HIGHER_IS_BETTER = /acc|auc|f1|precision|recall|win|reward|score/i;
const LOWER_IS_BETTER = /loss|error|perplexity/i;

/**
 * The direction a metric's name states: `val_accuracy` → max, `val_loss` → min.
 * Undefined when the name states none (`lr`, `samples_per_sec`): a caller that
 * must rank such a metric picks a default or asks for a mode, rather than guess here.
 */
export function inferMode(metric: string): MonitorMode | undefined {
  if (HIGHER_IS_BETTER.test(metric)) return 'max';
  if (LOWER_IS_BETTER.test(metric)) return 'min';
  return undefined;
}

/** Whether `a` beats `b` under `mode`. Equal values do not: on a tie the earlier one stays best. */
export function isBetter(a: number, b: number, mode: MonitorMode): boolean {
  return mode === 'min' ? a < b : a > b;
}

/** A sort comparator under `mode`: the better value first, equal values left in order. */
export function betterFirst(mode: MonitorMode): (a: number, b: number) => number {
  return mode === 'min' ? (a, b) => a - b : (a, b) => b - a;
}

/**
 * A monitored metric and which way it improves, decided in one place for every
 * plugin that ranks by a metric (checkpoint's best, retention's top k, compare,
 * the trackers' summaries). An explicit mode wins; a name that states no
 * direction is treated as a loss, the usual thing to monitor.
 * Plain data when serialized: `{ name, mode }`.
 */
export class Monitor {
  readonly mode: MonitorMode;

  constructor(
    readonly name: string,
    mode?: MonitorMode,
  ) {
    this.mode = mode ?? inferMode(name) ?? 'min';
  }

  /** Whether `a` beats `b`; on a tie the earlier value stays best. */
  isBetter(a: number, b: number): boolean {
    return isBetter(a, b, this.mode);
  }

  /** A sort comparator: the better value first. */
  compare(a: number, b: number): number {
    return betterFirst(this.mode)(a, b);
  }
}
