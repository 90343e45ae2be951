/**
 * A gate that opens at most once per `intervalMs`, and always for a final event,
 * so that progress printed as lines stays readable however often work reports.
 */
export function throttle(intervalMs: number, now: () => number = () => performance.now()): (final?: boolean) => boolean {
  let last = -Infinity;
  return (final = false) => {
    const t = now();
    if (!final && t - last < intervalMs) return false;
    last = t;
    return true;
  };
}
